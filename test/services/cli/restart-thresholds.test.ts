/**
 * Goal: a restart carried out with no owner running pre-flights with the thresholds the
 * database's owner ran with (recorded in the authority record as it started), not with the
 * thresholds of the command's own environment, and says which it used.
 *
 * Regression: the same restart was accepted or refused depending on the environment of the
 * shell it was typed in (a GOVERNOR_THRESHOLDS_* variable, another config file).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../services/clock.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { runCliInProcess } from '../../support/cli-in-process.js';
import { tempDir } from '../../support/harness.js';

const dirs: string[] = [];
afterEach(async () => {
  const { rmSync } = await import('node:fs');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A database its owner shut down after 5 s of running without market data, then closed. */
function latchedDatabase(): string {
  const dir = tempDir();
  dirs.push(dir);
  const dbPath = join(dir, 'governor.db');
  const clock = new SimulatedClock({ wallStartMs: Date.now() });
  // The owner's thresholds are the defaults (market data stalls after 10 min).
  const owner = new GovernanceSystem({ dbPath, clock, operatorRequestPollMs: null });
  clock.advance(5_000);
  owner.operatorShutdown({ operator: 'olga', reason: 'drill' });
  owner.close();
  return dbPath;
}

/** This shell's environment: market data stalls after 1 s. */
const STRICT_SHELL = {
  NO_COLOR: '1',
  GOVERNOR_THRESHOLDS_MARKET_DATA_SHUTDOWN_AFTER_MS: '1000',
  GOVERNOR_THRESHOLDS_MARKET_DATA_UNHEALTHY_AFTER_MS: '1000',
};

const restart = (dbPath: string, env: Record<string, string>) =>
  runCliInProcess(['restart', '--db', dbPath, '--operator', 'olga', '--reason', 'fixed'], env);

describe('restart with no owner running', () => {
  it('regression: pre-flighted with the command environment thresholds, not the owner recorded ones', async () => {
    const dbPath = latchedDatabase();
    const result = await restart(dbPath, STRICT_SHELL);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `^pre-flight with the thresholds owner pid ${process.pid} recorded at \\d{4}-\\d\\d-\\d\\dT`,
        'm',
      ),
    );
  });

  it("says it used this command's thresholds when no owner ever recorded any", async () => {
    const dbPath = latchedDatabase();
    const db = new Database(dbPath);
    db.prepare('UPDATE system_state SET owner_thresholds = NULL WHERE id = 1').run();
    db.close();
    // With no owner running only capital can refuse (the inputs are stale by the downtime and
    // the next start judges what its engine reports), so the strict shell is accepted too.
    const accepted = await restart(dbPath, STRICT_SHELL);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain(
      "pre-flight with this command's thresholds: no owner ever recorded any",
    );
    // The command is not an owner: it recorded no thresholds of its own.
    const check = new Database(dbPath, { readonly: true });
    const row = check.prepare('SELECT owner_thresholds FROM system_state WHERE id = 1').get() as {
      owner_thresholds: string | null;
    };
    check.close();
    expect(row.owner_thresholds).toBeNull();
  });

  it('says when the recorded thresholds cannot be used, and shows what the file holds escaped', async () => {
    const dbPath = latchedDatabase();
    const write = (path: string, text: string): void => {
      const db = new Database(path);
      db.prepare('UPDATE system_state SET owner_thresholds = ? WHERE id = 1').run(text);
      db.close();
    };
    write(dbPath, JSON.stringify({ pid: 1, host: 'h', recordedAt: 'x', thresholds: { nope: 5 } }));
    const unusable = await restart(dbPath, STRICT_SHELL);
    expect(unusable.code).toBe(0);
    expect(unusable.stdout).toContain(
      "pre-flight with this command's thresholds: the ones the owner recorded cannot be used",
    );
    // That restart cleared the latch: the forged record goes into another latched database.
    const second = latchedDatabase();
    write(
      second,
      JSON.stringify({ pid: 1, host: 'h', recordedAt: '\u001b[32mnow', thresholds: {} }),
    );
    const forged = await restart(second, { NO_COLOR: '1' });
    expect(forged.code).toBe(0);
    expect(forged.stdout).not.toContain('\u001b');
    expect(forged.stdout).toContain('recorded at \\x1b[32mnow');
  });
});
