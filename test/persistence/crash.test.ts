/**
 * Goal: a process appending in a loop and killed with SIGKILL at a random moment loses nothing
 * it reported: after each of 20+ kills the reopened database has a valid chain and holds every
 * seq the child printed (each printed only after its append returned).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Store } from '../../persistence/index.js';
import { tempDatabasePath } from './helpers.js';

const REPETITIONS = 20;
const FIXTURE = fileURLToPath(new URL('./fixtures/append-loop.ts', import.meta.url));
const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs the child until it has printed `killAfterLines` seqs, SIGKILLs it, returns all printed seqs. */
function runAndKill(path: string, killAfterLines: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, path], {
      cwd: REPOSITORY_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    let stderr = '';
    const printed: number[] = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) printed.push(Number(line));
      if (printed.length >= killAfterLines && child.exitCode === null) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL')
        reject(new Error(`child ended without SIGKILL (${signal}): ${stderr}`));
      else resolve(printed);
    });
  });
}

describe('crash safety', () => {
  it(`keeps every reported append across ${REPETITIONS} SIGKILLs at random moments`, async () => {
    const path = tempDatabasePath();
    let lastPrinted = 0;
    for (let repetition = 0; repetition < REPETITIONS; repetition++) {
      const killAfterLines = 1 + Math.floor(Math.random() * 400);
      const printed = await runAndKill(path, killAfterLines);
      expect(printed.length, `repetition ${repetition}`).toBeGreaterThanOrEqual(killAfterLines);
      // Each run continues the same log: its seqs follow the last run's without a gap.
      expect(printed[0]).toBeGreaterThan(lastPrinted);
      for (const [index, seq] of printed.entries()) expect(seq).toBe((printed[0] ?? 0) + index);
      lastPrinted = printed[printed.length - 1] ?? lastPrinted;

      const store = Store.open(path);
      const verification = store.integrityScan.verifyChain();
      expect(verification.ok, `repetition ${repetition}: ${JSON.stringify(verification)}`).toBe(
        true,
      );
      const head = store.events.head();
      expect(head?.seq ?? 0).toBeGreaterThanOrEqual(lastPrinted);
      for (const seq of printed) expect(store.events.get(seq)?.seq).toBe(seq);
      lastPrinted = head?.seq ?? lastPrinted;
      store.close();
    }
  }, 600_000);
});
