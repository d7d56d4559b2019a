/**
 * Goal: a monitoring user who may read the database but not write its directory runs `status`,
 * `events`, `alerts` and `verify` (they failed with "attempt to write a readonly database", exit
 * 6: SQLite must create the -wal and -shm beside a WAL database to read it, and the owner check
 * wrote a journal beside the lock file). The commands read a private copy instead and say so on
 * stderr, naming what the copy may lack: a -wal this user cannot read. Run as the user `nobody`
 * (`runuser`), so the test runs only as root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliSandbox, perTestResources, type StatusJson } from './cli-harness.js';

const USER = 'nobody';
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const canSwitchUser =
  asRoot && spawnSync('runuser', ['-u', USER, '--', 'true'], { stdio: 'ignore' }).status === 0;

const { sandbox } = perTestResources();

interface StatusWithHead extends StatusJson {
  readonly eventLogHead: { readonly seq: number; readonly hash: string } | null;
}

/**
 * The sandbox's directory made readable (not writable) by everyone, as a service's data
 * directory is, and a temporary directory of the reader's own; returns the reader's env.
 */
function shareReadOnly(box: CliSandbox): NodeJS.ProcessEnv {
  chmodSync(box.dir, 0o755);
  const tmp = join(box.dir, 'reader-tmp');
  mkdirSync(tmp);
  const uid = Number(execFileSync('id', ['-u', USER]).toString().trim());
  chownSync(tmp, uid, -1);
  return { TMPDIR: tmp };
}

async function runDemoUntilEvents(box: CliSandbox): Promise<void> {
  const daemon = box.startDaemon();
  await box.waitForStatus((s) => s.state === 'AGGRESSIVE', daemon);
  await box.stopDaemon(daemon);
}

describe.skipIf(!canSwitchUser)(
  `a reader without write permission on the directory (as ${USER}; skipped unless root with runuser)`,
  () => {
    it('status, events, alerts and verify read a private copy of a stopped database and say so (they failed: attempt to write a readonly database)', async () => {
      const box = sandbox();
      await runDemoUntilEvents(box);
      const env = shareReadOnly(box);

      const status = await box.run(['status', '--json'], { user: USER, env });
      expect(status.stderr).toMatch(/^\{"note":"read from a private copy of the database/);
      expect(status.code).toBe(0);
      const read = JSON.parse(status.stdout) as StatusWithHead;
      expect(read.running).toBe(false);

      for (const command of [['events'], ['alerts', '--all'], ['verify', '--full']]) {
        const result = await box.run(command, { user: USER, env });
        expect(result.stderr, command.join(' ')).toMatch(
          /^governor: note: read from a private copy of the database .*it had no -wal, so the copy holds every commit\n/,
        );
        expect(result.code, `${command.join(' ')}: ${result.stderr}`).toBe(0);
      }
      // The copies are gone, and nothing was written beside the database.
      expect(readdirSync(env.TMPDIR as string)).toEqual([]);
      expect(readdirSync(box.dir).filter((name) => /-(wal|shm|journal)$/.test(name))).toEqual([]);
      // What the copy held is what the owner's user reads from the file itself.
      const owner = JSON.parse((await box.run(['status', '--json'])).stdout) as StatusWithHead;
      expect(read.eventLogHead).toEqual(owner.eventLogHead);
    });

    it('events --follow on a copy is refused: new events would never reach it', async () => {
      const box = sandbox();
      await runDemoUntilEvents(box);
      const env = shareReadOnly(box);
      const result = await box.run(['events', '--follow'], { user: USER, env });
      expect(result.stderr).toMatch(/--follow cannot follow a private copy/);
      expect(result.code).toBe(2);
    });

    it('with the owner killed and its -wal unreadable, status reads the file as last checkpointed and says what it misses', async () => {
      const box = sandbox();
      await runDemoUntilEvents(box);
      const daemon = box.startDaemon();
      await box.waitForStatus((s) => s.state === 'AGGRESSIVE', daemon);
      await box.stopDaemon(daemon, 'SIGKILL');
      const env = shareReadOnly(box);
      chmodSync(`${box.dbPath}-wal`, 0o600);
      chmodSync(`${box.dbPath}-shm`, 0o600);

      const result = await box.run(['status', '--json'], { user: USER, env });
      expect(result.stderr).toMatch(
        /read without the WAL .*its -wal holds \d+ bytes this user cannot read, so the latest commits \(state, events, alerts\) may be missing/,
      );
      expect(result.code).toBe(0);
      const seen = JSON.parse(result.stdout) as StatusWithHead;
      const owner = JSON.parse((await box.run(['status', '--json'])).stdout) as StatusWithHead;
      expect(seen.eventLogHead?.seq).toBeLessThan(owner.eventLogHead?.seq ?? 0);
    });

    it('status of a running daemon shows its owner, read from the database (it was refused: the control directory is not this user’s)', async () => {
      const box = sandbox();
      const daemon = box.startDaemon();
      await box.waitForStatus((s) => s.state === 'AGGRESSIVE', daemon);
      const env = shareReadOnly(box);

      const result = await box.run(['status', '--json'], { user: USER, env });
      expect(result.stderr).toMatch(/not to this user .*: the daemon was not asked/);
      expect(result.code).toBe(0);
      const seen = JSON.parse(result.stdout) as StatusWithHead;
      expect(seen.source).toBe('recorded');
      expect(seen.running).toBe(true);
      expect(seen.owner?.pid).toBe(daemon.child.pid);
      expect(seen.state).toBe('AGGRESSIVE');
      expect(seen.canDeployCapital).toBe(false);
    });
  },
);
