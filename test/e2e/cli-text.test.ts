/**
 * Goal: the real `governor` command, run as an operator runs it. A shutdown reason with CR,
 * LF, ANSI escapes and a bidi override, given on the command line, is stored verbatim and
 * `governor status` prints it escaped on its own line, so it cannot forge a "gate open" line.
 * `governor status | head -3` and friends do not crash with EPIPE: with the reader gone before
 * the first line, or after it, the command stops writing and exits 0 with nothing on stderr,
 * and `events --follow` ends instead of polling forever.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../persistence/index.js';
import { CliSandbox } from './cli-harness.js';

const FORGED_REASON =
  'exchange timeout\r\n  gate        \u001b[32mopen\u001b[0m\n  latch       none\u202e';
/** Enough event-log lines (about 300 KB) to overflow a pipe's 64 KiB buffer many times. */
const EVENTS = 2_000;

interface Ended {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stderr: string;
  readonly firstLine: string | null;
}

/** Runs `child` to its end; its stdout reader is closed at once, or after the first line. */
function endWithEarlyClose(
  child: ChildProcess,
  close: 'at-once' | 'after-first-line',
): Promise<Ended> {
  let stderr = '';
  let firstLine: string | null = null;
  let received = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  if (close === 'at-once') child.stdout?.destroy();
  else {
    child.stdout?.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      const end = received.indexOf('\n');
      if (firstLine === null && end !== -1) {
        firstLine = received.slice(0, end);
        child.stdout?.destroy();
      }
    });
  }
  return new Promise((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stderr, firstLine }));
  });
}

describe('governor command: untrusted text and closed pipes', () => {
  const sandbox = new CliSandbox();
  beforeAll(() => {
    const store = Store.open(sandbox.dbPath);
    try {
      const reason = `filler event with a reason long enough to fill lines ${'x'.repeat(80)}`;
      store.events.appendBatch(
        Array.from({ length: EVENTS }, (_, index) => ({
          eventType: 'TEST_FILLER',
          reason: `${index} ${reason}`,
        })),
      );
    } finally {
      store.close();
    }
  });
  afterAll(() => sandbox.cleanup());

  it('a shutdown reason with a newline and ANSI escapes cannot forge a status line', async () => {
    const shutdown = await sandbox.run([
      'shutdown',
      '--operator',
      'alice',
      '--reason',
      FORGED_REASON,
    ]);
    expect(shutdown.code).toBe(0);
    const status = await sandbox.run(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).not.toContain('\u001b');
    expect(status.stdout).not.toContain('\r');
    expect(status.stdout).not.toContain('\u202e');
    const lines = status.stdout.split('\n');
    expect(lines.filter((line) => /^\s*gate\b/.test(line))).toEqual([
      expect.stringMatching(/^\s*gate\s+closed: /),
    ]);
    expect(lines.filter((line) => /^\s*latch\b/.test(line))).toEqual([
      expect.stringContaining(
        '\\r\\n  gate        \\x1b[32mopen\\x1b[0m\\n  latch       none\\u202e',
      ),
    ]);
    const json = await sandbox.run(['status', '--json']);
    expect((JSON.parse(json.stdout) as { latch: { reason: string } }).latch.reason).toBe(
      `operator alice: ${FORGED_REASON}`,
    );
  });

  it('governor status | head -3 does not crash with EPIPE (reader gone before the first line)', async () => {
    const ended = await endWithEarlyClose(sandbox.spawnCommand(['status']), 'at-once');
    expect(ended.stderr).toBe('');
    expect(ended).toMatchObject({ code: 0, signal: null });
  });

  it('governor events stops quietly when its reader closes after the first line', async () => {
    const ended = await endWithEarlyClose(
      sandbox.spawnCommand(['events', '--limit', String(EVENTS)]),
      'after-first-line',
    );
    expect(ended.firstLine).toMatch(/TEST_FILLER/);
    expect(ended.stderr).toBe('');
    expect(ended).toMatchObject({ code: 0, signal: null });
  });

  it('governor events --follow ends when its reader goes away instead of polling forever', async () => {
    const ended = await endWithEarlyClose(
      sandbox.spawnCommand(['events', '--follow', '--json', '--limit', String(EVENTS)]),
      'after-first-line',
    );
    expect(JSON.parse(ended.firstLine ?? '')).toMatchObject({ eventType: 'TEST_FILLER' });
    expect(ended.stderr).toBe('');
    expect(ended).toMatchObject({ code: 0, signal: null });
  });
});
