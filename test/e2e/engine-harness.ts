/**
 * End-to-end support for an engine that embeds governor: starts the child fixture
 * (fixtures/embedded-engine.ts) on a sandbox's database, collects the JSON lines it prints (gate
 * changes, mode changes, alerts, each with a cross-process timestamp), waits for one with a bound,
 * and kills the child when the sandbox is cleaned up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliSandbox } from './cli-harness.js';
import { REPO_ROOT, TSX_IMPORT } from './cli-harness.js';
import type { EngineFixtureConfig } from './fixtures/embedded-engine.js';

const FIXTURE = join(REPO_ROOT, 'test', 'e2e', 'fixtures', 'embedded-engine.ts');
/** A liveness bound, not a measurement: how long `waitFor` waits before it reports what it saw. */
export const ENGINE_WAIT_MS_MAX = 60_000;

/** One line the fixture printed; `atMs` is performance.timeOrigin + performance.now() there. */
export interface EngineEvent {
  readonly event: string;
  readonly atMs: number;
  readonly [field: string]: unknown;
}

export class EngineChild {
  readonly events: EngineEvent[] = [];
  readonly exited: Promise<number | string>;
  private stdout = '';
  private stderr = '';
  private readonly waiters = new Set<() => void>();

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString('utf8');
      let end = this.stdout.indexOf('\n');
      while (end !== -1) {
        const line = this.stdout.slice(0, end);
        this.stdout = this.stdout.slice(end + 1);
        if (line.startsWith('{')) this.events.push(JSON.parse(line) as EngineEvent);
        end = this.stdout.indexOf('\n');
      }
      for (const wake of this.waiters) wake();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-20_000);
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        resolve(code ?? signal ?? -1);
        for (const wake of this.waiters) wake();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last 20,000 characters the child wrote to stderr. */
  get stderrText(): string {
    return this.stderr;
  }

  /** Everything the child printed, for a failure message. */
  describe(): string {
    return `events:\n${this.events.map((e) => JSON.stringify(e)).join('\n')}\nstderr:\n${this.stderr}`;
  }

  /** The index the next event will have: pass it to `waitFor` to look only at later events. */
  mark(): number {
    return this.events.length;
  }

  /** The first event from `from` on that matches; waits (bounded) for it to come. */
  waitFor(
    what: string,
    predicate: (event: EngineEvent) => boolean,
    from = 0,
  ): Promise<EngineEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.events.slice(from).find(predicate);
        if (found !== undefined) {
          finish();
          resolve(found);
          return true;
        }
        if (!this.running) {
          finish();
          reject(new Error(`engine exited before ${what}\n${this.describe()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`engine: no ${what} within ${ENGINE_WAIT_MS_MAX} ms\n${this.describe()}`));
      }, ENGINE_WAIT_MS_MAX);
      const wake = (): void => {
        check();
      };
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      this.waiters.add(wake);
      check();
    });
  }

  /** Waits for the gate to be reported open (or closed) from `from` on. */
  waitForGate(open: boolean, from = 0): Promise<EngineEvent> {
    return this.waitFor(
      `gate ${open ? 'open' : 'closed'}`,
      (e) => e.event === 'gate' && e.open === open,
      from,
    );
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Closes the GovernanceSystem gracefully and waits for the exit. */
  async close(): Promise<number | string> {
    if (this.running) this.send('close');
    return this.exited;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | string> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}

export interface StartEngineOptions extends Partial<EngineFixtureConfig> {
  /** The child's working directory (default: the sandbox directory). */
  readonly cwd?: string;
}

/** Starts the fixture on `sandbox`'s database (or `options.dbPath`); killed at cleanup. */
export function startEngine(sandbox: CliSandbox, options: StartEngineOptions = {}): EngineChild {
  const { cwd, ...overrides } = options;
  const config: EngineFixtureConfig = { dbPath: sandbox.dbPath, ...overrides };
  const child = spawn(process.execPath, ['--import', TSX_IMPORT, FIXTURE, JSON.stringify(config)], {
    cwd: cwd ?? sandbox.dir,
    env: { ...process.env, NO_COLOR: '1', GOVERNOR_LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const engine = new EngineChild(child);
  sandbox.onCleanup(async () => {
    await engine.kill('SIGKILL');
  });
  return engine;
}

/** Starts an engine and waits until its startup checks opened the gate. */
export async function startTradingEngine(
  sandbox: CliSandbox,
  options: StartEngineOptions = {},
): Promise<EngineChild> {
  const engine = startEngine(sandbox, options);
  await engine.waitForGate(true);
  return engine;
}

/** Writes measured figures to test-artifacts/e2e/<name>.json and prints them (never asserted). */
export function recordFigures(name: string, figures: Record<string, unknown>): void {
  const directory = join(REPO_ROOT, 'test-artifacts', 'e2e');
  mkdirSync(directory, { recursive: true });
  const text = JSON.stringify({ measuredAt: new Date().toISOString(), ...figures }, null, 2);
  writeFileSync(join(directory, `${name}.json`), `${text}\n`);
  console.log(`[figures] ${name}: ${JSON.stringify(figures)}`);
}

/** An `operator_requests` row as the database holds it. */
export interface RequestRow {
  readonly id: number;
  readonly command: string;
  readonly operator: string;
  readonly status: string;
  readonly requested_at_ms: number;
  readonly handled_at_ms: number | null;
  readonly handled_by: string | null;
  readonly result: string | null;
}

export function requestRows(sandbox: CliSandbox): RequestRow[] {
  return sandbox.query<RequestRow>('SELECT * FROM operator_requests ORDER BY id');
}

export function lastRequest(sandbox: CliSandbox): RequestRow {
  const rows = requestRows(sandbox);
  const last = rows[rows.length - 1];
  if (last === undefined) throw new Error('no operator request recorded');
  return last;
}
