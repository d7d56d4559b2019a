/**
 * Benchmark: kill to flat at real (local) venues. Three local Kraken exchanges run in this
 * process, each with 50 resting orders per trial; an owner process embeds governor with three
 * ccxt venues (the unmodified ccxt kraken client pointed at them). Three measurements:
 * 1. a `shutdown` request committed as `governor shutdown` commits it -> all three exchanges
 *    report 0 open orders (100 trials), against a bare ccxt `cancelAllOrders` round trip to one
 *    exchange with 50 orders, interleaved in the same run;
 * 2. kill -9 of the owner -> each exchange's CancelAllOrdersAfter countdown cancelled everything,
 *    against the configured timeout;
 * 3. the owner frozen (SIGSTOP) -> `governor venues flat` (dist/, its own API keys) -> all three
 *    exchanges report 0, from the command's spawn, against `node -e 0` interleaved; and
 *    `governor shutdown` with the same credentials, whose fallback cancels once the frozen owner
 *    did not confirm.
 * Cross-process times are performance.timeOrigin + performance.now(). Run: npm run build, then
 * npm run bench:kill-to-flat (BENCH_TRIALS, BENCH_KILL_TRIALS, BENCH_CLI_TRIALS,
 * BENCH_FALLBACK_TRIALS to change counts; BENCH_ONLY=3 to run only some).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import ccxt from 'ccxt';
import { ccxtVenue } from '../ccxt.js';
import { LocalKrakenExchange, preciseNowMs } from '../examples/kraken-exchange/kraken-exchange.js';
import type { ApiKeyPair } from '../examples/kraken-exchange/kraken-signing.js';
import { GovernanceSystem } from '../index.js';
import { Store } from '../persistence/index.js';
import { operatorCommandEntry } from '../services/governor/operator-vocabulary.js';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 100);
const KILL_TRIALS = Number(process.env.BENCH_KILL_TRIALS ?? 10);
const CLI_TRIALS = Number(process.env.BENCH_CLI_TRIALS ?? 20);
const FALLBACK_TRIALS = Number(process.env.BENCH_FALLBACK_TRIALS ?? 5);
/** Which measurements to run: BENCH_ONLY=1,3 (default all). */
const ONLY = new Set((process.env.BENCH_ONLY ?? '1,2,3').split(','));
const WARMUP = 5;
const VENUES = 3;
const ORDERS_PER_VENUE = 50;
/** The countdown of measurement 2 (Kraken counts whole seconds). */
const KILL_TIMEOUT_MS = 2_000;
const KILL_RENEW_EVERY_MS = 1_000;
/** A liveness bound per wait: a trial that takes longer stops the benchmark. */
const WAIT_MS_MAX = 30_000;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const GOVERNOR = join(ROOT, 'dist', 'bin', 'governor.js');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface OwnerConfig {
  readonly dbPath: string;
  readonly venues: readonly {
    readonly name: string;
    readonly url: string;
    readonly key: ApiKeyPair;
  }[];
  readonly timeoutMs: number;
  readonly renewEveryMs: number;
}

interface ChildEvent {
  readonly event: string;
  readonly atMs: number;
  readonly open?: boolean;
}

function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, atMs: preciseNowMs(), ...fields })}\n`);
}

// ---------------------------------------------------------------------------------------------
// The child: an engine that embeds governor with three ccxt venues

async function runOwner(config: OwnerConfig): Promise<void> {
  const venues = config.venues.map((venue) => {
    const client = new ccxt.kraken({ ...venue.key, enableRateLimit: false, timeout: 2_000 });
    client.urls.api = { public: venue.url, private: venue.url };
    return ccxtVenue(client, {
      name: venue.name,
      deadMansSwitch: { timeoutMs: config.timeoutMs, renewEveryMs: config.renewEveryMs },
    });
  });
  const governance = new GovernanceSystem({
    dbPath: config.dbPath,
    venues,
    thresholds: {
      deadMansSwitchTimeoutMs: config.timeoutMs,
      deadMansSwitchRenewEveryMs: config.renewEveryMs,
    },
  });
  let open = governance.canDeployCapital();
  setInterval(() => {
    const now = governance.canDeployCapital();
    if (now === open) return;
    open = now;
    emit('gate', { open });
  }, 1);
  setInterval(() => governance.healthMonitor.updateMarketDataTimestamp(), 100);
  process.stdin.on('end', () => {
    governance.close();
    process.exit(0);
  });
  process.stdin.resume();
  emit('pid', { pid: process.pid });
  await governance.runStartupChecks();
  emit('ready');
}

// ---------------------------------------------------------------------------------------------
// The parent

class Child {
  readonly events: ChildEvent[] = [];
  private buffer = '';
  private stderr = '';
  private wake: (() => void) | null = null;

  constructor(readonly process: ChildProcess) {
    process.stdout?.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8');
      let end = this.buffer.indexOf('\n');
      while (end !== -1) {
        const line = this.buffer.slice(0, end);
        if (line.startsWith('{')) this.events.push(JSON.parse(line) as ChildEvent);
        this.buffer = this.buffer.slice(end + 1);
        end = this.buffer.indexOf('\n');
      }
      this.wake?.();
    });
    process.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4_000);
    });
  }

  async next(from: number, match: (event: ChildEvent) => boolean): Promise<ChildEvent> {
    const deadline = performance.now() + WAIT_MS_MAX;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found !== undefined) return found;
      if (performance.now() > deadline || this.process.exitCode !== null) {
        throw new Error(`owner: nothing matched within ${WAIT_MS_MAX} ms\n${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
      this.wake = null;
    }
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.kill('SIGCONT');
    this.process.stdin?.end();
    await exited;
  }

  async kill(): Promise<void> {
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.kill('SIGKILL');
    await exited;
  }
}

function startOwner(config: OwnerConfig): Child {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), 'owner', JSON.stringify(config)],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, GOVERNOR_LOG_LEVEL: 'warn' } },
  );
  return new Child(child);
}

function record(store: Store, command: string): number {
  store.operatorRequests.record(
    { command, operator: 'bench', reason: 'kill-to-flat benchmark', requestedBy: 'bench' },
    Date.now(),
  );
  return preciseNowMs();
}

/** When every exchange first counted 0 open orders (the latest of them). */
async function allFlatAtMs(exchanges: readonly LocalKrakenExchange[]): Promise<number> {
  const times = await Promise.all(exchanges.map((e) => e.waitForOpenOrdersAtMost(0, WAIT_MS_MAX)));
  return Math.max(...times);
}

function fill(exchanges: readonly LocalKrakenExchange[]): void {
  for (const exchange of exchanges) exchange.placeRestingOrders(ORDERS_PER_VENUE);
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

/** Measurement 1: request committed -> all venues flat, against a bare ccxt cancel-all. */
async function measureShutdown(
  dir: string,
  exchanges: readonly LocalKrakenExchange[],
): Promise<{ flat: number[]; bare: number[] }> {
  const dbPath = join(dir, 'shutdown.db');
  const owner = startOwner({
    dbPath,
    venues: exchanges.map((e, i) => ({ name: `kraken-${i}`, url: e.url, key: e.credentials })),
    timeoutMs: 60_000,
    renewEveryMs: 20_000,
  });
  const bareKey = exchanges[0]?.addApiKey();
  const bareExchange = exchanges[0];
  if (bareKey === undefined || bareExchange === undefined) throw new Error('no exchange');
  const bareClient = new ccxt.kraken({ ...bareKey, enableRateLimit: false, timeout: 2_000 });
  bareClient.urls.api = { public: bareExchange.url, private: bareExchange.url };
  await bareClient.loadMarkets();
  const flat: number[] = [];
  const bare: number[] = [];
  try {
    await owner.next(0, (e) => e.event === 'ready');
    const writer = Store.open(dbPath, { busyTimeoutMs: 2_000 });
    try {
      await owner.next(0, (e) => e.event === 'gate' && e.open === true);
      let from = owner.events.length;
      record(writer, 'shutdown');
      await owner.next(from, (e) => e.event === 'gate' && e.open === false);
      for (let trial = 0; trial < WARMUP + TRIALS; trial++) {
        const ownerTrial = async (): Promise<number> => {
          from = owner.events.length;
          record(writer, 'restart');
          await owner.next(from, (e) => e.event === 'gate' && e.open === true);
          fill(exchanges);
          await sleep(Math.random() * 50);
          const committedMs = record(writer, 'shutdown');
          return (await allFlatAtMs(exchanges)) - committedMs;
        };
        const bareTrial = async (): Promise<number> => {
          bareExchange.placeRestingOrders(ORDERS_PER_VENUE);
          const startMs = preciseNowMs();
          await bareClient.cancelAllOrders();
          const endMs = preciseNowMs();
          if (bareExchange.countOpenOrders() !== 0) throw new Error('bare cancel left orders');
          return endMs - startMs;
        };
        const [a, b] =
          trial % 2 === 0
            ? [await ownerTrial(), await bareTrial()]
            : [await bareTrial(), await ownerTrial()].reverse();
        if (trial < WARMUP) continue;
        flat.push(a as number);
        bare.push(b as number);
      }
    } finally {
      writer.close();
    }
  } finally {
    await owner.stop();
  }
  return { flat, bare };
}

/** Measurement 2: kill -9 -> the countdowns cancelled everything. */
async function measureKill(
  dir: string,
  exchanges: readonly LocalKrakenExchange[],
): Promise<number[]> {
  const results: number[] = [];
  for (let trial = 0; trial < KILL_TRIALS; trial++) {
    const owner = startOwner({
      dbPath: join(dir, `kill-${trial}.db`),
      venues: exchanges.map((e, i) => ({ name: `kraken-${i}`, url: e.url, key: e.credentials })),
      timeoutMs: KILL_TIMEOUT_MS,
      renewEveryMs: KILL_RENEW_EVERY_MS,
    });
    try {
      await owner.next(0, (e) => e.event === 'gate' && e.open === true);
      for (const exchange of exchanges) {
        while (exchange.countdownTriggerAtMs() === undefined) await sleep(10);
      }
      fill(exchanges);
      await sleep(Math.random() * KILL_RENEW_EVERY_MS);
      const firedBefore = exchanges.map((e) => e.countdownFirings.length);
      const killedMs = preciseNowMs();
      await owner.kill();
      const flatMs = await allFlatAtMs(exchanges);
      exchanges.forEach((e, i) => {
        if (e.countdownFirings.length !== (firedBefore[i] ?? 0) + 1) {
          throw new Error('an exchange became flat without its countdown firing');
        }
      });
      results.push(flatMs - killedMs);
    } finally {
      if (owner.process.exitCode === null && owner.process.signalCode === null) await owner.kill();
    }
  }
  return results;
}

interface CliResults {
  /** `governor venues flat`: spawn -> every exchange at 0 open orders. */
  readonly flat: number[];
  /** The same command: spawn -> its exit. */
  readonly exit: number[];
  /** Baseline, interleaved: `node -e 0`, spawn -> exit. */
  readonly bareNode: number[];
  /** `governor shutdown` with credentials, the owner frozen: spawn -> every exchange at 0. */
  readonly fallbackFlat: number[];
  /** The same: the owner's confirmation deadline (request committed + its wait) -> all at 0. */
  readonly fallbackAfterDeadline: number[];
}

/**
 * The wall instant at which the last `governor shutdown` stopped waiting for the owner: its
 * request's commit (the row's requested_at_ms) plus the command's confirmation wait.
 */
function confirmationDeadlineMs(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    const last = db
      .prepare(
        "SELECT MAX(requested_at_ms) AS at FROM operator_requests WHERE command = 'shutdown'",
      )
      .get() as { at: number | null };
    if (last.at === null) throw new Error('no shutdown request on record');
    return last.at + operatorCommandEntry('shutdown').confirmWaitMs;
  } finally {
    db.close();
  }
}

/** Spawns `argv` and resolves when it exited, with its code and output. */
function run(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  const command = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  command.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  command.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  return new Promise((resolve) => command.once('exit', (code) => resolve({ code, output })));
}

/**
 * Measurement 3: owner frozen (SIGSTOP) -> `governor venues flat` with its own keys -> all flat,
 * against a bare `node -e 0` interleaved; then `governor shutdown` with the same config, which
 * waits for the owner's confirmation before its fallback cancels.
 */
async function measureCli(
  dir: string,
  exchanges: readonly LocalKrakenExchange[],
): Promise<CliResults> {
  const dbPath = join(dir, 'frozen.db');
  const owner = startOwner({
    dbPath,
    venues: exchanges.map((e, i) => ({ name: `kraken-${i}`, url: e.url, key: e.credentials })),
    timeoutMs: 60_000,
    renewEveryMs: 20_000,
  });
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', GOVERNOR_LOG_LEVEL: 'warn' };
  const venues = exchanges.map((exchange, i) => {
    const key = exchange.addApiKey();
    env[`BENCH_KEY_${i}`] = key.apiKey;
    env[`BENCH_SECRET_${i}`] = key.secret;
    return {
      name: `kraken-${i}`,
      exchange: 'kraken',
      apiUrl: exchange.url,
      apiKeyEnv: `BENCH_KEY_${i}`,
      secretEnv: `BENCH_SECRET_${i}`,
    };
  });
  const configPath = join(dir, 'venues.json');
  writeFileSync(configPath, JSON.stringify({ api: { enabled: false }, venues }));
  const results: CliResults = {
    flat: [],
    exit: [],
    bareNode: [],
    fallbackFlat: [],
    fallbackAfterDeadline: [],
  };
  try {
    await owner.next(0, (e) => e.event === 'gate' && e.open === true);
    owner.process.kill('SIGSTOP');
    for (let trial = 0; trial < CLI_TRIALS; trial++) {
      const bare = async (): Promise<void> => {
        const startMs = preciseNowMs();
        await run(['-e', '0'], env);
        results.bareNode.push(preciseNowMs() - startMs);
      };
      const governor = async (): Promise<void> => {
        fill(exchanges);
        const spawnedMs = preciseNowMs();
        const exited = run([GOVERNOR, 'venues', 'flat', '--config', configPath], env);
        const flatMs = await allFlatAtMs(exchanges);
        const { code, output } = await exited;
        const exitedMs = preciseNowMs();
        if (code !== 0) throw new Error(`governor venues flat exited ${code}:\n${output}`);
        results.flat.push(flatMs - spawnedMs);
        results.exit.push(exitedMs - spawnedMs);
      };
      if (trial % 2 === 0) {
        await governor();
        await bare();
      } else {
        await bare();
        await governor();
      }
    }
    for (let trial = 0; trial < FALLBACK_TRIALS; trial++) {
      fill(exchanges);
      const spawnedMs = preciseNowMs();
      const exited = run(
        [
          GOVERNOR,
          'shutdown',
          '--db',
          dbPath,
          '--config',
          configPath,
          '--operator',
          'bench',
          '--reason',
          'frozen owner',
        ],
        env,
      );
      const flatMs = await allFlatAtMs(exchanges);
      const { code, output } = await exited;
      // 7: the frozen owner did not confirm; the fallback made every venue flat.
      if (code !== 7) throw new Error(`governor shutdown exited ${code}:\n${output}`);
      results.fallbackFlat.push(flatMs - spawnedMs);
      results.fallbackAfterDeadline.push(flatMs - confirmationDeadlineMs(dbPath));
    }
  } finally {
    owner.process.kill('SIGCONT');
    await owner.stop();
  }
  return results;
}

async function main(): Promise<void> {
  if (!existsSync(GOVERNOR)) throw new Error('run npm run build first (measurement 3 runs dist/)');
  const dir = mkdtempSync(join(tmpdir(), 'governor-bench-kill-to-flat-'));
  const exchanges: LocalKrakenExchange[] = [];
  for (let i = 0; i < VENUES; i++) exchanges.push(await LocalKrakenExchange.start());
  try {
    const shutdown = ONLY.has('1') ? await measureShutdown(dir, exchanges) : null;
    const killed = ONLY.has('2') ? await measureKill(dir, exchanges) : null;
    const cli = ONLY.has('3') ? await measureCli(dir, exchanges) : null;
    report(shutdown, killed, cli);
  } finally {
    for (const exchange of exchanges) await exchange.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(
  shutdown: { flat: number[]; bare: number[] } | null,
  killed: number[] | null,
  cli: CliResults | null,
): void {
  const f = (ms: number): string => ms.toFixed(1).padStart(8);
  const stats = (values: readonly number[]) => ({
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: Math.max(...values),
  });
  const row = (label: string, values: readonly number[]): string => {
    const s = stats(values);
    return `  ${label.padEnd(62)} p50 ${f(s.p50)} ms   p99 ${f(s.p99)} ms   max ${f(s.max)} ms`;
  };
  const ratio = (a: readonly number[], b: readonly number[]): string =>
    `  ratio p50 ${(percentile(a, 50) / percentile(b, 50)).toFixed(2)}   ratio p99 ${(percentile(a, 99) / percentile(b, 99)).toFixed(2)}`;
  console.log(
    `bench/kill-to-flat: ${VENUES} local Kraken exchanges, ${ORDERS_PER_VENUE} resting orders each`,
  );
  const figures: Record<string, unknown> = {
    measuredAt: new Date().toISOString(),
    venues: VENUES,
    ordersPerVenue: ORDERS_PER_VENUE,
  };
  if (shutdown !== null) {
    console.log(
      `1. shutdown request committed -> every exchange at 0 open orders (${shutdown.flat.length} trials)`,
    );
    console.log(row('governor owner with 3 ccxt venues', shutdown.flat));
    console.log(row('baseline: bare ccxt cancelAllOrders round trip, 1 venue', shutdown.bare));
    console.log(ratio(shutdown.flat, shutdown.bare));
    figures.shutdownToFlatMs = stats(shutdown.flat);
    figures.bareCancelAllMs = stats(shutdown.bare);
  }
  if (killed !== null) {
    console.log(
      `2. kill -9 of the owner -> the countdowns cancelled everything (${killed.length} trials, timeout ${KILL_TIMEOUT_MS} ms, renewed every ${KILL_RENEW_EVERY_MS} ms)`,
    );
    console.log(row('kill -9 -> every exchange at 0 open orders', killed));
    const late = killed.filter((ms) => ms > KILL_TIMEOUT_MS + 1_000).length;
    console.log(
      `  bound timeout + 1 s = ${KILL_TIMEOUT_MS + 1_000} ms: ${late === 0 ? 'PASS' : 'MISS'} (${late} of ${killed.length} later)`,
    );
    figures.killToCountdownFlatMs = { ...stats(killed), timeoutMs: KILL_TIMEOUT_MS, late };
  }
  if (cli !== null) {
    console.log(
      `3. owner frozen (SIGSTOP) -> governor venues flat -> every exchange at 0 (${cli.flat.length} trials)`,
    );
    console.log(row('spawn of the command -> every exchange at 0 open orders', cli.flat));
    console.log(row('spawn of the command -> its exit (confirmed flat)', cli.exit));
    console.log(row('baseline: node -e 0, spawn -> exit', cli.bareNode));
    console.log(ratio(cli.flat, cli.bareNode));
    console.log(
      `   governor shutdown with credentials, owner frozen -> every exchange at 0 (${cli.fallbackFlat.length} trials)`,
    );
    console.log(
      row('spawn -> flat (waits for the confirmation, then falls back)', cli.fallbackFlat),
    );
    figures.frozenCliToFlatMs = stats(cli.flat);
    figures.frozenCliExitMs = stats(cli.exit);
    figures.bareNodeMs = stats(cli.bareNode);
    console.log(
      row(
        "the owner's confirmation deadline -> flat (target p99 < 1 s)",
        cli.fallbackAfterDeadline,
      ),
    );
    figures.frozenShutdownFallbackToFlatMs = stats(cli.fallbackFlat);
    figures.frozenShutdownAfterDeadlineMs = stats(cli.fallbackAfterDeadline);
  }
  const artifacts = join(ROOT, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(
    join(artifacts, 'bench-kill-to-flat.json'),
    `${JSON.stringify(figures, null, 2)}\n`,
  );
}

const [role, configText] = process.argv.slice(2);
if (role === 'owner' && configText !== undefined)
  await runOwner(JSON.parse(configText) as OwnerConfig);
else await main();
