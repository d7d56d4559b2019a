/**
 * Goal: the event log's prune as an operator runs it, with the real `governor` command: refused
 * (exit 2, GOV_DATABASE_OWNED naming the owner, nothing written) while a daemon or an engine
 * that embeds governor owns the file;
 * with the daemon stopped, it archives, prunes and attests; `governor verify` passes on the
 * pruned database and on the archive alone, and the next `governor run` starts AGGRESSIVE. A
 * hole cut by hand (a prefix deleted by SQL and a base row inserted) is exit 4 for
 * `governor verify`, and the next start does not trade.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { type CliSandbox, type Daemon, perTestResources } from './cli-harness.js';
import { startTradingEngine } from './engine-harness.js';

const { sandbox } = perTestResources();

const WHO = ['--operator', 'olga', '--reason', 'INC-12: archive old history'];

async function runUntilAggressive(box: CliSandbox): Promise<Daemon> {
  const daemon = box.startDaemon(['--demo']);
  await box.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', daemon);
  return daemon;
}

function eventCount(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return Number(db.prepare('SELECT count(*) FROM events').pluck().get());
  } finally {
    db.close();
  }
}

describe('governor events prune, end to end', () => {
  it('is refused while a daemon owns the file; stopped, it prunes; verify passes on the log and the archive alone; the next run starts AGGRESSIVE', async () => {
    const box = sandbox();
    const daemon = await runUntilAggressive(box);
    const archive = join(box.dir, 'archive-1.db');
    const owned = await box.run([
      'events',
      'prune',
      '--through-seq',
      '3',
      '--archive',
      archive,
      ...WHO,
    ]);
    expect(owned.code).toBe(2);
    expect(owned.stderr).toMatch(/is owned by pid \d+/);
    expect(existsSync(archive)).toBe(false);
    expect(await box.stopDaemon(daemon)).toBe(0);

    const before = eventCount(box.dbPath);
    const pruned = await box.run([
      'events',
      'prune',
      '--through-seq',
      '3',
      '--archive',
      archive,
      ...WHO,
    ]);
    expect(pruned.stderr).toBe('');
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain('3 events through seq 3 pruned');
    expect(eventCount(box.dbPath)).toBe(before - 3 + 1);

    expect((await box.run(['verify', '--full'])).code).toBe(0);
    const alone = await box.run(['verify', '--full'], { db: archive });
    expect(alone.code).toBe(0);

    const again = await runUntilAggressive(box);
    expect(await box.stopDaemon(again)).toBe(0);
    expect((await box.run(['verify', '--full'])).code).toBe(0);
  });

  it('is refused while an engine that embeds governor owns the file, naming it; nothing written', async () => {
    const box = sandbox();
    const engine = await startTradingEngine(box);
    const archive = join(box.dir, 'archive-engine.db');
    const owned = await box.run([
      'events',
      'prune',
      '--through-seq',
      '2',
      '--archive',
      archive,
      ...WHO,
    ]);
    expect(owned.code).toBe(2);
    expect(owned.stderr).toMatch(new RegExp(`is owned by pid ${engine.pid}`));
    expect(existsSync(archive)).toBe(false);
    expect(engine.running).toBe(true);
  });

  it('regression: a prefix deleted by SQL with a base row inserted by hand is exit 4 for governor verify, and the next start does not trade', async () => {
    const box = sandbox();
    const daemon = await runUntilAggressive(box);
    expect(await box.stopDaemon(daemon)).toBe(0);
    const db = new Database(box.dbPath);
    try {
      const hash = db.prepare('SELECT hash FROM events WHERE seq = 3').pluck().get() as string;
      db.prepare('DELETE FROM events WHERE seq <= 3').run();
      db.prepare(
        "INSERT INTO event_log_base VALUES (1, 3, ?, '2026-01-01T00:00:00.000Z', 'mallory', 'x', 'none.db')",
      ).run(hash);
    } finally {
      db.close();
    }
    const verdict = await box.run(['verify', '--full']);
    expect(verdict.code).toBe(4);
    expect(verdict.stdout).toContain('is not attested');
    const next = box.startDaemon(['--demo']);
    const status = await box.waitForStatus((s) => s.running && s.state === 'OBSERVE_ONLY', next);
    expect(status.canDeployCapital).toBe(false);
    await box.stopDaemon(next);
  });
});
