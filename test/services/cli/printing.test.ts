/**
 * Goal: text from the database, the daemon or an exchange cannot forge or hide what the
 * `governor` command prints. An exchange's error message with CR, LF, ANSI escapes and bidi
 * controls becomes a shutdown reason; `status`, `alerts`, `events`, the daemon's mode-change
 * lines and its terminal alert sink still print one line per field, with the characters shown
 * as visible escapes. `--json` stays JSON that parses back to the exact text. When the reader
 * of stdout goes away (EPIPE), output stops quietly.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoredEvent } from '../../../persistence/index.js';
import type { GovernorAlert } from '../../../services/alerts/types.js';
import { printAlert } from '../../../services/cli/commands/alerts.js';
import { printEvent } from '../../../services/cli/commands/events.js';
import { printModeChange, terminalSink } from '../../../services/cli/commands/run.js';
import { printStatus } from '../../../services/cli/commands/status.js';
import { createOutput, type Output } from '../../../services/cli/output.js';
import { displayText } from '../../../services/display-text.js';
import {
  liveStatus,
  recordedStatus,
  type GovernorStatus as StatusReport,
} from '../../../services/governor/status.js';
import { type Harness, makeHarness, settle } from '../../support/harness.js';
import { hasForbidden } from '../../support/hostile-text.js';

/** What an exchange answered once: a status line, a forged governor line and a bidi flip. */
const EXCHANGE_ERROR =
  'HTTP 503 from exchange\r\n  gate        \u001b[32mopen\u001b[0m\n\u001b[1mgovernor\u001b[0m  \u001b[32mAGGRESSIVE\u001b[0m  (daemon pid 1)\u202e\u2066 \u0000\u009b2J';

interface Captured {
  readonly out: Output;
  text(): string;
  lines(): string[];
}

/** An Output over an in-memory stream; `tty` turns colour on. */
function capture(tty: boolean): Captured {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  Object.assign(stream, { isTTY: tty });
  const out = createOutput({
    stdout: stream as unknown as NodeJS.WriteStream,
    stderr: stream as unknown as NodeJS.WriteStream,
    env: {},
  });
  const text = (): string => chunks.join('');
  return { out, text, lines: () => text().split('\n').slice(0, -1) };
}

/** The printed text without the Output's own colour codes. */
const PAINT = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g');

/** Holds for both outputs: nothing raw, and the hostile text shown escaped. */
function expectShownNotActed(captured: Captured, colour: boolean): void {
  const text = captured.text();
  if (!colour) expect(text).not.toContain(String.fromCharCode(27));
  expect(hasForbidden(text.replace(PAINT, '').replaceAll('\n', ''))).toBe(false);
  expect(text).toContain(displayText(EXCHANGE_ERROR));
}

let h: Harness | undefined;
afterEach(() => {
  h?.cleanup();
  h = undefined;
});

async function shutDownByExchange(): Promise<Harness> {
  const harness = makeHarness();
  await harness.gov.runStartupChecks();
  harness.gov.failSafeManager.triggerShutdown('UNRECOVERABLE_EXCEPTION', EXCHANGE_ERROR);
  await settle();
  return harness;
}

describe('governor status', () => {
  it.each([false, true])(
    'a shutdown reason with a newline and ANSI escapes cannot forge a status line (colour %s)',
    async (colour) => {
      h = await shutDownByExchange();
      const live = liveStatus(h.gov);
      const plain: StatusReport = {
        ...live,
        reason: 'x',
        latch: live.latch === null ? null : { ...live.latch, reason: 'x' },
      };
      const forged = capture(colour);
      printStatus(forged.out, live);
      const benign = capture(colour);
      printStatus(benign.out, plain);

      expect(forged.lines()).toHaveLength(benign.lines().length);
      const stripped = forged.lines().map((line) => line.replace(PAINT, ''));
      expect(stripped.filter((line) => /^\s*gate\b/.test(line))).toHaveLength(1);
      expect(stripped.find((line) => /^\s*gate\b/.test(line))).toMatch(/^\s*gate\s+closed: /);
      expect(stripped.filter((line) => line.startsWith('governor'))).toHaveLength(1);
      expect(stripped[0]).toMatch(/^governor {2}SHUTDOWN/);
      expectShownNotActed(forged, colour);
    },
  );

  it('the status recorded in the database (no daemon) is printed the same way', async () => {
    h = await shutDownByExchange();
    h.gov.close();
    const store = Store.open(h.dbPath, { readonly: true });
    try {
      const captured = capture(false);
      printStatus(captured.out, recordedStatus(store, h.dbPath, null));
      expect(captured.lines().filter((line) => /^\s*gate\b/.test(line))).toHaveLength(1);
      expectShownNotActed(captured, false);
    } finally {
      store.close();
    }
  });

  it('--json stays raw JSON: it parses back to the exact reason, U+2028, U+2029 and bidi escaped', async () => {
    h = await shutDownByExchange();
    const report = liveStatus(h.gov);
    for (const tty of [false, true]) {
      const captured = capture(tty);
      captured.out.json({ ...report, reason: `${EXCHANGE_ERROR}\u2028\u2029` });
      const text = captured.text();
      expect(text).toContain('\\u202e');
      expect(text).toContain('\\u2028');
      expect(hasForbidden(text.replaceAll('\n', ''))).toBe(false);
      const parsed = JSON.parse(text) as StatusReport;
      expect(parsed.reason).toBe(`${EXCHANGE_ERROR}\u2028\u2029`);
      expect(parsed.latch?.reason).toBe(EXCHANGE_ERROR);
    }
  });
});

describe('governor alerts and events', () => {
  it('an alert whose texts hold newlines and escapes prints one line per field', async () => {
    h = await shutDownByExchange();
    const [alert] = h.reader().alerts.list({ unacknowledgedOnly: true, limit: 1 });
    expect(alert).toBeDefined();
    if (alert === undefined) return;
    const hostile = {
      ...alert,
      title: `title${EXCHANGE_ERROR}`,
      rootCause: EXCHANGE_ERROR,
      recommendedAction: EXCHANGE_ERROR,
      acknowledged: true,
      acknowledgedBy: `forged\n${EXCHANGE_ERROR}`,
      deliveries: [],
    };
    for (const colour of [false, true]) {
      const captured = capture(colour);
      printAlert(captured.out, hostile, { dbPath: '/srv/governor.db', configPath: null });
      // severity line, id, message, cause, action, delivery, blank
      expect(captured.lines()).toHaveLength(7);
      expectShownNotActed(captured, colour);
    }
  });

  it('an event reason with CR, LF and bidi characters stays on its line', async () => {
    h = await shutDownByExchange();
    const events: StoredEvent[] = [...h.reader().events.iterate(1)];
    const shutdown = events.find((event) => event.reason.includes(EXCHANGE_ERROR));
    expect(shutdown).toBeDefined();
    for (const colour of [false, true]) {
      const captured = capture(colour);
      for (const event of events) printEvent(captured.out, event, false);
      expect(captured.lines()).toHaveLength(events.length);
      expectShownNotActed(captured, colour);
      const json = capture(colour);
      for (const event of events) printEvent(json.out, event, true);
      expect(json.lines().map((line) => JSON.parse(line) as StoredEvent)).toEqual(events);
      expect(hasForbidden(json.text().replaceAll('\n', ''))).toBe(false);
    }
  });
});

describe('governor run', () => {
  it('a mode change and the terminal alert sink print one line per field whatever the reason holds', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const captured = capture(true);
    h.gov.onModeChange((change) => printModeChange(captured.out, change));
    h.gov.failSafeManager.triggerShutdown('UNRECOVERABLE_EXCEPTION', EXCHANGE_ERROR);
    await settle();
    expect(captured.lines()).toHaveLength(1);
    expect(captured.lines()[0]?.replace(PAINT, '')).toMatch(
      /AGGRESSIVE -> SHUTDOWN \(UNRECOVERABLE_EXCEPTION\)/,
    );
    const alert = h.delivered.find((delivered) => delivered.kind === 'SHUTDOWN');
    expect(alert).toBeDefined();
    const hostile: GovernorAlert = {
      ...(alert as GovernorAlert),
      title: EXCHANGE_ERROR,
      rootCause: EXCHANGE_ERROR,
      alertId: `id${EXCHANGE_ERROR}`,
    };
    void terminalSink(captured.out, { dbPath: '/srv/governor.db', configPath: null }).deliver(
      hostile,
    );
    expect(captured.lines()).toHaveLength(1 + 5);
    expectShownNotActed(captured, true);
  });
});

describe('a reader that goes away (EPIPE)', () => {
  function brokenPipe(): { stream: Writable; writes: () => number; fail: (code: string) => void } {
    let writes = 0;
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        writes++;
        callback();
      },
    });
    const fail = (code: string): void => {
      const error = Object.assign(new Error(`write ${code}`), { code });
      stream.emit('error', error);
    };
    return { stream, writes: () => writes, fail };
  }

  it('output stops quietly when the reader of stdout goes away', () => {
    const pipe = brokenPipe();
    const out = createOutput({
      stdout: pipe.stream as unknown as NodeJS.WriteStream,
      stderr: pipe.stream as unknown as NodeJS.WriteStream,
      env: {},
    });
    out.line('first');
    expect(out.closed).toBe(false);
    expect(() => pipe.fail('EPIPE')).not.toThrow();
    expect(out.closed).toBe(true);
    out.line('second');
    out.json({ third: true });
    out.table([['a']], ['h']);
    expect(pipe.writes()).toBe(1);
  });

  it('any other write error still surfaces', () => {
    const pipe = brokenPipe();
    createOutput({
      stdout: pipe.stream as unknown as NodeJS.WriteStream,
      stderr: pipe.stream as unknown as NodeJS.WriteStream,
      env: {},
    });
    expect(() => pipe.fail('EIO')).toThrow('write EIO');
  });
});
