/**
 * Goal: one owner per database file, whichever way the file is named, held for the life of the
 * owning process and freed by the operating system when it dies. A second owner in another
 * process (an engine that embeds governor, `governor run`) is refused with GOV_DATABASE_OWNED
 * naming the owner (pid, host, since), through the same path, a symlink to the file or its
 * directory, or a relative path; after kill -9 of the owner a new owner starts at once.
 *
 * Regressions of the one-authority issue, item 4: two GovernanceSystems (or daemons) on one file
 * both traded.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GovernanceSystem } from '../../index.js';
import { type CliSandbox, perTestResources, REPO_ROOT } from './cli-harness.js';
import {
  type EngineChild,
  recordFigures,
  startEngine,
  startTradingEngine,
} from './engine-harness.js';

const { sandbox } = perTestResources();

const ownedBy = (pid: number): RegExp =>
  new RegExp(
    `is owned by pid ${pid} on ${hostname()} \\(owner since \\d{4}-\\d\\d-\\d\\dT[^)]+\\)`,
  );

/** Starts a second engine and expects it refused, naming `owner`; the owner trades on. */
async function expectRefusedEngine(
  box: CliSandbox,
  owner: EngineChild,
  options: Parameters<typeof startEngine>[1],
): Promise<void> {
  const second = startEngine(box, options);
  const refused = await second.waitFor('refusal', (e) => e.event === 'refused');
  expect(refused.code).toBe('GOV_DATABASE_OWNED');
  expect(String(refused.message)).toMatch(ownedBy(owner.pid));
  expect(await second.exited).toBe(2);
  expect(second.events.some((e) => e.event === 'gate' && e.open === true)).toBe(false);
  expect(owner.running).toBe(true);
  expect(owner.events.filter((e) => e.event === 'gate').at(-1)?.open).toBe(true);
}

describe('one owner per database file, across processes', () => {
  it('regression (item 4): a second engine embedding governor on the same file traded beside the first; now it is refused with GOV_DATABASE_OWNED naming the owner', async () => {
    const box = sandbox();
    const owner = await startTradingEngine(box);
    await expectRefusedEngine(box, owner, {});
  });

  it('regression (item 4): `governor run` twice on one file both traded; now the second exits 2 naming the first, and `governor run` beside an embedded engine is refused too', async () => {
    const box = sandbox();
    const daemon = box.startDaemon(['--demo']);
    const first = await box.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', daemon);
    const second = await box.run(['run', '--demo']);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/GOV_DATABASE_OWNED|is owned by/);
    expect(second.stderr).toMatch(ownedBy(first.pid ?? -1));
    expect((await box.status()).pid).toBe(first.pid);
    expect(await box.stopDaemon(daemon)).toBe(0);

    const engine = await startTradingEngine(box);
    const beside = await box.run(['run', '--demo']);
    expect(beside.code).toBe(2);
    expect(beside.stderr).toMatch(ownedBy(engine.pid));
    expect(engine.events.filter((e) => e.event === 'gate').at(-1)?.open).toBe(true);
  });

  it('regression (item 4): an owner reached through a symlinked path (to the file, or to its directory) was a second owner; now it is refused', async () => {
    const box = sandbox();
    const owner = await startTradingEngine(box);
    const fileLink = join(box.dir, 'alias.db');
    symlinkSync(box.dbPath, fileLink);
    await expectRefusedEngine(box, owner, { dbPath: fileLink });
    const directoryLink = join(box.dir, 'linked-dir');
    symlinkSync(box.dir, directoryLink);
    await expectRefusedEngine(box, owner, { dbPath: join(directoryLink, 'governor.db') });
    const daemon = await box.run(['run', '--demo'], { db: fileLink });
    expect(daemon.code).toBe(2);
    expect(daemon.stderr).toMatch(ownedBy(owner.pid));
  });

  it('regression (item 4): the same file named by a relative and by an absolute path had two owners; now the second is refused, whichever came first', async () => {
    const box = sandbox();
    const absolute = await startTradingEngine(box, { dbPath: box.dbPath });
    await expectRefusedEngine(box, absolute, { dbPath: 'governor.db', cwd: box.dir });
    const nested = join(box.dir, 'nested');
    mkdirSync(nested);
    await expectRefusedEngine(box, absolute, { dbPath: '../governor.db', cwd: nested });
    expect(await absolute.close()).toBe(0);

    const relative = await startTradingEngine(box, { dbPath: 'governor.db', cwd: box.dir });
    await expectRefusedEngine(box, relative, { dbPath: box.dbPath });
    const daemon = await box.run(['run', '--demo'], { db: 'governor.db', cwd: box.dir });
    expect(daemon.code).toBe(2);
    expect(daemon.stderr).toMatch(ownedBy(relative.pid));
  });

  it('regression: an owner starting while a reader probed the lock (governor status, with nobody running, takes it for a moment to learn that nobody holds it) was refused as owned by another process', async () => {
    const box = sandbox();
    expect(await (await startTradingEngine(box)).close()).toBe(0);
    // What isLockHeld does, held 100 ms instead of a moment, in another process.
    const prober = spawn(
      process.execPath,
      [
        '-e',
        `const Database = require(${JSON.stringify(join(REPO_ROOT, 'node_modules', 'better-sqlite3'))});
const db = new Database(${JSON.stringify(`${box.dbPath}.owner`)}, { timeout: 0 });
db.pragma('locking_mode = EXCLUSIVE');
db.exec('BEGIN EXCLUSIVE');
process.stdout.write('held\\n');
setTimeout(() => db.close(), 100);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => prober.once('exit', resolve));
    await new Promise((resolve) => prober.stdout.once('data', resolve));
    let governance: GovernanceSystem | null = null;
    try {
      governance = new GovernanceSystem({ dbPath: box.dbPath });
      expect(governance.getState()).toBe('STARTING');
    } finally {
      governance?.close();
      await exited;
    }
  });

  it('regression (item 4): kill -9 of the owner frees the lock at once: a new owner starts on the first try', async () => {
    const box = sandbox();
    const first = await startTradingEngine(box);
    expect(await first.kill('SIGKILL')).toBe('SIGKILL');
    const killedAtMs = performance.timeOrigin + performance.now();
    const next = startEngine(box);
    const ready = await next.waitFor(
      'ready or refusal',
      (e) => e.event === 'ready' || e.event === 'refused',
    );
    expect(ready.event).toBe('ready');
    await next.waitForGate(true);
    // The owner row still names the killed process; the new owner took it over.
    const [row] = box.query<{ pid: number; released_at: string | null }>(
      'SELECT pid, released_at FROM owner',
    );
    expect(row?.pid).toBe(next.pid);
    recordFigures('one-owner-after-kill', {
      killedToNewOwnerReadyMs: Number((ready.atMs - killedAtMs).toFixed(1)),
      note: 'includes the new child process start (node + tsx)',
    });

    // And a daemon after kill -9 of the engine.
    expect(await next.kill('SIGKILL')).toBe('SIGKILL');
    const daemon = box.startDaemon(['--demo']);
    const status = await box.waitForStatus((s) => s.running && s.source === 'live', daemon);
    expect(status.pid).not.toBe(next.pid);
    expect(await box.stopDaemon(daemon)).toBe(0);
  });
});
