/**
 * Goal: a prune killed with SIGKILL at any moment leaves the old log or the pruned one, never
 * anything between, and either verifies: killed inside its transaction (events deleted, base
 * and attestation written, not committed), the old log; killed after the commit, before the
 * head anchor is rewritten, the pruned log (the anchor, written before at a head after N, still
 * holds); `governor events prune`'s whole path killed at random moments, one or the other.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readChainBase } from '../../persistence/event-log-base.js';
import { Store } from '../../persistence/index.js';
import { verifyDatabase } from '../../services/health/verify-database.js';
import { tempDatabasePath } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/prune-child.ts', import.meta.url));
const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EVENTS = 30_000;
const THROUGH_SEQ = 20_000;
const RANDOM_KILLS = 6;

/** Runs the child; SIGKILLs it when it prints `stage` (or after `killAfterMs`). */
function runChild(
  args: string[],
  kill: { stage: string } | { afterMs: number } | null,
): Promise<{ killed: boolean; printed: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], {
      cwd: REPOSITORY_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let printed = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      printed += chunk;
      if (kill !== null && 'stage' in kill && printed.includes(kill.stage)) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    if (kill !== null && 'afterMs' in kill) setTimeout(() => child.kill('SIGKILL'), kill.afterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`child failed: ${stderr}`));
      else resolve({ killed: signal === 'SIGKILL', printed, ms: performance.now() - started });
    });
  });
}

/** A closed database of EVENTS events, verified once (so its head is anchored). */
function database(): string {
  const path = tempDatabasePath();
  const store = Store.open(path);
  for (let batch = 0; batch < EVENTS / 10_000; batch++) {
    store.events.appendBatch(
      Array.from({ length: 10_000 }, (_, index) => ({
        eventType: 'TRADE_DECISION',
        reason: `decision ${batch}-${index}`,
      })),
    );
  }
  store.close();
  expect(verifyDatabase({ dbPath: path, updateAnchor: true }).ok).toBe(true);
  return path;
}

function copyOf(source: string): string {
  const path = tempDatabasePath();
  copyFileSync(source, path);
  copyFileSync(`${source}.head.json`, `${path}.head.json`);
  return path;
}

/** 'old' or 'pruned', after checking that the state is exactly one of them and verifies. */
function stateOf(path: string): 'old' | 'pruned' {
  const verdict = verifyDatabase({ dbPath: path });
  expect(verdict.violations).toEqual([]);
  const store = Store.open(path, { readonly: true });
  try {
    const base = readChainBase(store);
    const count = store.events.count();
    if (base === null) {
      expect(count).toBe(EVENTS);
      return 'old';
    }
    expect(base.seq).toBe(THROUGH_SEQ);
    expect(count).toBe(EVENTS - THROUGH_SEQ + 1);
    return 'pruned';
  } finally {
    store.close();
  }
}

describe('a prune killed with SIGKILL', () => {
  it('inside its transaction, after the delete, the base and the attestation: the old log, which verifies', async () => {
    const path = copyOf(database());
    const run = await runChild(['uncommitted', path, String(THROUGH_SEQ), 'a.db'], {
      stage: 'uncommitted',
    });
    expect(run.killed).toBe(true);
    expect(stateOf(path)).toBe('old');
  });

  it('after the commit, before the head anchor is rewritten: the pruned log, which verifies', async () => {
    const path = copyOf(database());
    const run = await runChild(['committed', path, String(THROUGH_SEQ), 'a.db'], {
      stage: 'committed',
    });
    expect(run.killed).toBe(true);
    expect(stateOf(path)).toBe('pruned');
  });

  it(`the whole governor events prune path, at ${RANDOM_KILLS} random moments: the old log or the pruned one`, async () => {
    const source = database();
    const whole = copyOf(source);
    const complete = await runChild(
      ['offline', whole, String(THROUGH_SEQ), `${whole}.archive`],
      null,
    );
    expect(complete.printed).toContain('done');
    expect(stateOf(whole)).toBe('pruned');
    const seen = new Set<string>();
    for (let repetition = 0; repetition < RANDOM_KILLS; repetition++) {
      const path = copyOf(source);
      const afterMs = Math.random() * complete.ms;
      const run = await runChild(['offline', path, String(THROUGH_SEQ), `${path}.archive`], {
        afterMs,
      });
      const state = stateOf(path);
      seen.add(state);
      if (state === 'pruned') expect(existsSync(`${path}.archive`)).toBe(true);
      expect(run.killed || state === 'pruned').toBe(true);
    }
    expect(seen.size).toBeGreaterThan(0);
  });
});
