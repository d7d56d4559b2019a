/**
 * Goal: the README's embedding snippet runs as written. engine.ts is the snippet, character for
 * character (the README shows it between the `embedding:` markers); here it runs as its own
 * process against a fresh database file: it creates the pool and accounts it needs, passes the
 * startup checks and trades every order through the gate. A second run on the same file finds
 * the accounts there and trades on.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { GovernanceSystem, silentLogger } from '../../index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENGINE = join(ROOT, 'examples', 'embedding', 'engine.ts');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
const ORDERS = 20;
const NOTIONAL_MINOR = 10_000n;
const directory = mkdtempSync(join(tmpdir(), 'governor-embedding-'));

afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Runs engine.ts in `directory` (its `./governor.db`), as an engine process would run. */
function runEngine(): string {
  return execFileSync(process.execPath, ['--import', TSX, ENGINE], {
    cwd: directory,
    // The example imports 'trading-governor'; the repository's tsconfig maps it to index.ts.
    env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json'), ORDERS: `${ORDERS}` },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

/** What the database holds once the engine has exited, read through the public API. */
function ledger() {
  const governance = new GovernanceSystem({
    dbPath: join(directory, 'governor.db'),
    logger: silentLogger(),
  });
  try {
    const { engine } = governance;
    let filled = 0;
    for (let seq = 1; seq <= (engine.events.head()?.seq ?? 0); seq += 500) {
      filled += engine.events
        .readPage(seq, 500)
        .filter((event) => event.eventType === 'ORDER_FILLED').length;
    }
    return {
      filled,
      cash: engine.capital.balance('cash'),
      positions: engine.capital.balance('positions'),
      reconciled: engine.capital.reconcile().ok,
    };
  } finally {
    governance.close();
  }
}

describe('the README embedding snippet', () => {
  it('is engine.ts, as written', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const shown = /<!-- embedding: examples\/embedding\/engine\.ts -->\n```ts\n([\s\S]*?)```/.exec(
      readme,
    );
    expect(shown, 'the README shows engine.ts between its markers').not.toBeNull();
    expect(shown?.[1]).toBe(readFileSync(ENGINE, 'utf8'));
  });

  it('creates what it needs on a fresh file, then trades every order through the gate', () => {
    const output = runEngine();
    expect(output).not.toContain('order held back');
    expect(output).not.toContain('"level":50'); // no error, no alert
    expect(ledger()).toEqual({
      filled: ORDERS,
      cash: 10_000_000n - BigInt(ORDERS) * NOTIONAL_MINOR,
      positions: BigInt(ORDERS) * NOTIONAL_MINOR,
      reconciled: true,
    });
  });

  it('runs again on the same file: the accounts are there, it trades on', () => {
    const output = runEngine();
    expect(output).not.toContain('order held back');
    expect(ledger()).toMatchObject({
      filled: 2 * ORDERS,
      cash: 10_000_000n - 2n * BigInt(ORDERS) * NOTIONAL_MINOR,
    });
  });
});
