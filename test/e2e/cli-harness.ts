/**
 * End-to-end support: runs the real `governor` command (bin/governor.ts through tsx) against a
 * temporary database and a config file that shrinks thresholds to seconds, polls with bounded
 * retries, and kills every daemon it started.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = ['--import', 'tsx', join(REPO_ROOT, 'bin', 'governor.ts')];
/** Polls every POLL_INTERVAL_MS, at most POLL_ATTEMPTS_MAX times. */
export const POLL_INTERVAL_MS = 200;
export const POLL_ATTEMPTS_MAX = 300;

export const E2E_CONFIG_YAML = `# e2e: thresholds in seconds so a fault is detected quickly
api:
  enabled: false
thresholds:
  heartbeatIntervalMs: 500
  heartbeatLossMs: 5000
  marketDataStaleMsMax: 2000
  marketDataStallMs: 2000
  eventLogWriteStaleMsMax: 5000
  eventLogWriteFailureMs: 10000
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
  readonly dir = mkdtempSync(join(tmpdir(), 'gov-e2e-'));
  readonly dbPath = join(this.dir, 'governor.db');
  readonly configPath = join(this.dir, 'governor.yaml');
  private readonly daemons: Daemon[] = [];

  constructor(configYaml = E2E_CONFIG_YAML) {
    writeFileSync(this.configPath, configYaml);
  }

  /** Runs one command to completion. */
  run(args: readonly string[]): Promise<CliResult> {
    return new Promise((resolvePromise) => {
      execFile(
        process.execPath,
        [...ENTRY, ...args, '--db', this.dbPath, '--config', this.configPath],
        { cwd: REPO_ROOT, env: cleanEnv(), timeout: 60_000 },
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
  startDaemon(args: readonly string[] = ['--demo']): Daemon {
    const child = spawn(
      process.execPath,
      [...ENTRY, 'run', ...args, '--db', this.dbPath, '--config', this.configPath],
      { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
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

  async status(): Promise<{ running: boolean; state: string | null; trigger: string | null }> {
    const result = await this.run(['status', '--json']);
    if (result.code !== 0) throw new Error(`status failed (${result.code}): ${result.stderr}`);
    return JSON.parse(result.stdout) as {
      running: boolean;
      state: string | null;
      trigger: string | null;
    };
  }

  /** Polls `status` until `predicate` holds; throws with the daemon output after the bound. */
  async waitForStatus(
    predicate: (status: {
      running: boolean;
      state: string | null;
      trigger: string | null;
    }) => boolean,
    daemon?: Daemon,
  ): Promise<{ running: boolean; state: string | null; trigger: string | null }> {
    let last: unknown = null;
    for (let attempt = 0; attempt < POLL_ATTEMPTS_MAX; attempt++) {
      try {
        const status = await this.status();
        last = status;
        if (predicate(status)) return status;
      } catch (error) {
        last = error;
      }
      await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
    }
    throw new Error(
      `status never matched; last: ${JSON.stringify(last)}\n${daemon?.output() ?? ''}`,
    );
  }

  async stopDaemon(daemon: Daemon, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    if (daemon.child.exitCode === null && daemon.child.signalCode === null)
      daemon.child.kill(signal);
    return daemon.exited;
  }

  async cleanup(): Promise<void> {
    for (const daemon of this.daemons) {
      if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
        daemon.child.kill('SIGKILL');
        await daemon.exited;
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
