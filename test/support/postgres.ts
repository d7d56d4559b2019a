/**
 * Test support: a throwaway PostgreSQL cluster in a temporary directory on a free loopback port,
 * started by the test (initdb + pg_ctl, run as `postgres` when the test runs as root), with the
 * faults the fleet tests inject: SIGSTOP/SIGCONT of the whole server process tree, an immediate
 * stop, and a restart on the same port and data.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN_CANDIDATES = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin'];

/** The directory holding initdb and pg_ctl, or null when PostgreSQL is not installed. */
export function postgresBinDir(): string | null {
  for (const dir of BIN_CANDIDATES) if (existsSync(join(dir, 'initdb'))) return dir;
  return null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface PostgresCluster {
  readonly port: number;
  readonly dataDir: string;
  /** A superuser URL (the cluster trusts loopback connections: a test cluster only). */
  readonly superuserUrl: string;
  /** A URL for a named role on the cluster's database. */
  urlFor(role: string, password?: string): string;
  /** The postmaster's pid and every process under it. */
  processTree(): number[];
  /** SIGSTOP every process of the server (the postmaster alone closes nothing). */
  freeze(): void;
  thaw(): void;
  /** `pg_ctl stop -m immediate`: a crash, as far as clients see. */
  stopImmediate(): void;
  start(): void;
  destroy(): void;
}

function asPostgres(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function run(bin: string, args: string[]): string {
  const [command, argv] = asPostgres()
    ? ['runuser', ['-u', 'postgres', '--', bin, ...args]]
    : [bin, args];
  return execFileSync(command, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function startPostgres(): Promise<PostgresCluster> {
  const binDir = postgresBinDir();
  if (binDir === null) throw new Error('PostgreSQL is not installed (.ci/setup installs it)');
  const root = mkdtempSync(join(tmpdir(), 'governor-pg-'));
  const dataDir = join(root, 'data');
  if (asPostgres()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(root, uid, gid);
  }
  chmodSync(root, 0o700);
  run(join(binDir, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '--no-sync',
    '--encoding=UTF8',
    '--locale=C',
  ]);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${root}`,
    "-c listen_addresses='127.0.0.1'",
    '-c fsync=off',
    '-c max_connections=300',
    '-c shared_buffers=32MB',
  ].join(' ');
  const logFile = join(root, 'server.log');
  const start = (): void => {
    run(join(binDir, 'pg_ctl'), ['-D', dataDir, '-o', options, '-l', logFile, '-w', 'start']);
  };
  start();
  const postmasterPid = (): number | null => {
    const pidFile = join(dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return null;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  };
  const processTree = (): number[] => {
    const pid = postmasterPid();
    if (pid === null) return [];
    const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((line) => Number(line.trim()))
      .filter((child) => Number.isSafeInteger(child) && child > 0);
    return [pid, ...children];
  };
  const signal = (pid: number, name: NodeJS.Signals): void => {
    try {
      process.kill(pid, name);
    } catch {
      // gone already
    }
  };
  /**
   * SIGSTOP stops the postmaster first and only then lists its children: listed first, a backend
   * forked between the listing and the postmaster's stop (a host reconnecting) kept serving
   * through the "frozen" cluster, and renewed that host's lease (the 200-episode soak's one
   * violation). The children are listed again until no new one appears.
   */
  const signalTree = (name: NodeJS.Signals): void => {
    const postmaster = postmasterPid();
    if (postmaster === null) return;
    if (name !== 'SIGSTOP') {
      for (const pid of processTree()) signal(pid, name);
      return;
    }
    signal(postmaster, name);
    const stopped = new Set<number>([postmaster]);
    for (let round = 0; round < 10; round++) {
      const fresh = processTree().filter((pid) => !stopped.has(pid));
      if (fresh.length === 0) return;
      for (const pid of fresh) {
        signal(pid, name);
        stopped.add(pid);
      }
    }
  };
  let destroyed = false;
  return {
    port,
    dataDir,
    superuserUrl: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    urlFor: (role, password) =>
      `postgresql://${encodeURIComponent(role)}${password === undefined ? '' : `:${encodeURIComponent(password)}`}@127.0.0.1:${port}/postgres`,
    processTree,
    freeze: () => signalTree('SIGSTOP'),
    thaw: () => signalTree('SIGCONT'),
    stopImmediate: () => {
      signalTree('SIGCONT');
      run(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', 'stop']);
    },
    start,
    destroy: () => {
      if (destroyed) return;
      destroyed = true;
      signalTree('SIGCONT');
      try {
        run(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', 'stop']);
      } catch {
        // not running
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
