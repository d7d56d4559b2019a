/**
 * End-to-end support: runs the real `governor` command, as installed (dist/bin/governor.js, built
 * once for the run by global-setup.ts, under plain node), against a
 * temporary database and a config file that shrinks thresholds to seconds, polls with bounded
 * retries, reads the database as any reader may (read-only, never blocked by the owner), and
 * kills every daemon and child it started.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import { type Receiver, startReceiver } from '../services/alerts/support.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** tsx's loader as a URL, so a child runs TypeScript from any working directory. */
export const TSX_IMPORT = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** The command as shipped: the build's entry point, run by plain node (no TypeScript loader). */
export const GOVERNOR_BIN = join(REPO_ROOT, 'dist', 'bin', 'governor.js');
const ENTRY = [GOVERNOR_BIN];
/** Polls every POLL_INTERVAL_MS, at most POLL_ATTEMPTS_MAX times. */
export const POLL_INTERVAL_MS = 200;
export const POLL_ATTEMPTS_MAX = 300;
/**
 * Liveness bounds, not measurements: how long `waitForStatus` polls (each poll runs the command,
 * about a second) and how long a stopped daemon may take to exit, before the test fails with
 * the daemon's output rather than running into the test timeout without it.
 */
export const STATUS_WAIT_MS_MAX = 60_000;
export const DAEMON_EXIT_WAIT_MS_MAX = 30_000;

export const E2E_CONFIG_YAML = `# e2e: thresholds in seconds so a fault is detected quickly
api:
  enabled: false
thresholds:
  heartbeatIntervalMs: 500
  heartbeatLossMs: 5000
  marketDataUnhealthyAfterMs: 2000
  marketDataShutdownAfterMs: 2000
  eventLogUnhealthyAfterMs: 5000
  eventLogShutdownAfterMs: 10000
  failSafeCheckIntervalMs: 500
  integrityCheckIntervalMs: 2000
  startupChecksTimeoutMs: 10000
  adapterPingTimeoutMs: 2000
`;

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** The --db value (default: the sandbox database); relative paths resolve against `cwd`. */
  readonly db?: string;
  /** Working directory of the command (default: the repository root). */
  readonly cwd?: string;
  /** Extra environment variables for the command (e.g. NOTIFY_SOCKET). */
  readonly env?: NodeJS.ProcessEnv;
  /** Run the command as this user (`runuser -u USER --`; the tests run as root). */
  readonly user?: string;
}

/** The status `governor status --json` prints (the fields the tests read). */
export interface StatusJson {
  readonly running: boolean;
  readonly source: 'live' | 'recorded';
  readonly state: string | null;
  readonly recordedState: string | null;
  readonly trigger: string | null;
  readonly canDeployCapital: boolean;
  readonly desiredMode: string;
  readonly owner: { readonly pid: number; readonly host: string; readonly since: string } | null;
  readonly pid: number | null;
}

export interface Daemon {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('GOVERNOR_')) env[key] = value;
  }
  return { ...env, NO_COLOR: '1', GOVERNOR_LOG_LEVEL: 'warn' };
}

export class CliSandbox {
  /** Real path (no symlinked tmpdir), so paths in messages match the ones the tests build. */
  readonly dir = realpathSync(mkdtempSync(join(tmpdir(), 'gov-e2e-')));
  readonly dbPath = join(this.dir, 'governor.db');
  readonly configPath = join(this.dir, 'governor.yaml');
  private readonly daemons: Daemon[] = [];
  private readonly cleanups: Array<() => Promise<void>> = [];

  constructor(configYaml = E2E_CONFIG_YAML) {
    this.writeConfig(configYaml);
  }

  /** Replaces the config file the commands of this sandbox read. */
  writeConfig(configYaml: string): void {
    writeFileSync(this.configPath, configYaml);
  }

  /** Runs one command to completion. */
  run(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
    const command = [
      process.execPath,
      ...ENTRY,
      ...args,
      '--db',
      options.db ?? this.dbPath,
      '--config',
      this.configPath,
    ];
    const [file, ...argv] =
      options.user === undefined ? command : ['runuser', '-u', options.user, '--', ...command];
    return new Promise((resolvePromise) => {
      execFile(
        file as string,
        argv,
        { cwd: options.cwd ?? REPO_ROOT, env: { ...cleanEnv(), ...options.env }, timeout: 60_000 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolvePromise({ code, stdout, stderr });
        },
      );
    });
  }

  /** Starts one command with stdout and stderr on pipes the caller reads (and may close). */
  spawnCommand(args: readonly string[]): ChildProcess {
    return spawn(
      process.execPath,
      [...ENTRY, ...args, '--db', this.dbPath, '--config', this.configPath],
      { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
  }

  /** Starts `governor run` with `args` in the background. */
  startDaemon(args: readonly string[] = ['--demo'], options: RunOptions = {}): Daemon {
    const child = spawn(
      process.execPath,
      [...ENTRY, 'run', ...args, '--db', options.db ?? this.dbPath, '--config', this.configPath],
      {
        cwd: options.cwd ?? REPO_ROOT,
        env: { ...cleanEnv(), ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | string>((resolvePromise) => {
      child.on('exit', (code, signal) => resolvePromise(code ?? signal ?? -1));
    });
    const daemon: Daemon = { child, exited, output: () => output };
    this.daemons.push(daemon);
    return daemon;
  }

  async status(): Promise<StatusJson> {
    const result = await this.run(['status', '--json']);
    if (result.code !== 0) throw new Error(`status failed (${result.code}): ${result.stderr}`);
    return JSON.parse(result.stdout) as StatusJson;
  }

  /** Polls `status` until `predicate` holds; throws with the daemon output after the bound. */
  async waitForStatus(
    predicate: (status: StatusJson) => boolean,
    daemon?: Daemon,
  ): Promise<StatusJson> {
    let last: unknown = null;
    const deadline = performance.now() + STATUS_WAIT_MS_MAX;
    while (performance.now() < deadline) {
      try {
        const status = await this.status();
        last = status;
        if (predicate(status)) return status;
      } catch (error) {
        last = error instanceof Error ? error.message : error;
      }
      if (daemon !== undefined && daemon.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
    }
    throw new Error(
      `status never matched within ${STATUS_WAIT_MS_MAX} ms; last: ${JSON.stringify(last)}\n${daemon?.output() ?? ''}`,
    );
  }

  /**
   * Waits (bounded) until the daemon has printed a line matching `pattern`: its output and the
   * exit of a command that it served arrive in this process in no fixed order.
   */
  async waitForOutput(daemon: Daemon, pattern: RegExp): Promise<void> {
    const deadline = performance.now() + DAEMON_EXIT_WAIT_MS_MAX;
    while (!pattern.test(daemon.output())) {
      if (performance.now() > deadline) {
        throw new Error(`the daemon never printed ${pattern}\n${daemon.output()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Rows of `sql`, read through a read-only connection (as any reader may, while an owner runs). */
  query<T>(sql: string, ...parameters: unknown[]): T[] {
    const db = new Database(this.dbPath, { readonly: true, fileMustExist: true, timeout: 5_000 });
    try {
      return db.prepare(sql).all(...parameters) as T[];
    } finally {
      db.close();
    }
  }

  /** Runs `cleanup` (before the directory is removed) when the sandbox is cleaned up. */
  onCleanup(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  /** Sends `signal` and waits for the exit; a daemon that does not exit fails the test, with its output. */
  async stopDaemon(daemon: Daemon, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    if (daemon.child.exitCode === null && daemon.child.signalCode === null)
      daemon.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<'stuck'>((resolve) => {
      timer = setTimeout(() => resolve('stuck'), DAEMON_EXIT_WAIT_MS_MAX);
    });
    const outcome = await Promise.race([daemon.exited, stuck]);
    clearTimeout(timer);
    if (outcome === 'stuck') {
      daemon.child.kill('SIGKILL');
      throw new Error(
        `the daemon did not exit within ${DAEMON_EXIT_WAIT_MS_MAX} ms of ${signal}\n${daemon.output()}`,
      );
    }
    return outcome;
  }

  async cleanup(): Promise<void> {
    for (const cleanup of this.cleanups) await cleanup();
    for (const daemon of this.daemons) {
      if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
        daemon.child.kill('SIGKILL');
        await daemon.exited;
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Sandboxes and webhook receivers made by a test, cleaned up after it (call once per file, at
 * the top level: it registers the afterEach).
 */
export function perTestResources(): {
  sandbox(): CliSandbox;
  receiver(): Promise<Receiver>;
} {
  const open: Array<CliSandbox | Receiver> = [];
  afterEach(async () => {
    for (const resource of open.splice(0)) {
      if (resource instanceof CliSandbox) await resource.cleanup();
      else await resource.close();
    }
  });
  return {
    sandbox() {
      const created = new CliSandbox();
      open.push(created);
      return created;
    },
    async receiver() {
      const started = await startReceiver();
      open.push(started);
      return started;
    },
  };
}
