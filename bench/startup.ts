/**
 * Startup-check benchmark. governor's side is `GovernanceSystem.runStartupChecks` (every table,
 * the chain walked in worker threads); the baseline, measured in the same run, is what a careful
 * user would write: a single-thread, paged raw verifier (better-sqlite3 pages of 1,024 raw rows,
 * governor's documented encoding `JSON.stringify([seq, event_id, timestamp, event_type, reason,
 * metadata, prev_hash])` hashed with SHA-256, seq continuity and prev_hash links). Each side runs
 * in its own child process (peak RSS is its own), alternating, after a warm-up that loads the
 * page cache. During governor's run an interval timer measures event-loop lateness. Also: the
 * background scrub's cost per million events and its longest slice.
 *
 * Sizes: BENCH_EVENTS (default 10000,100000,1000000; add 10000000 for the large run). Fixtures
 * (raw multi-row inserts with correct hashes, three years of snapshots, 100 pools) are cached in
 * BENCH_DIR (default <tmp>/governor-bench-startup) between runs; governor's runs append a few
 * events to them. BENCH_ROUNDS (default 3; 1 at 10M). Both sides run compiled by tsc, as
 * `dist/` does (BENCH_RUNTIME=tsx: from the sources). Run: npm run bench:startup.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Store } from '../persistence/index.js';
import { DataIntegrityVerifier, IntegrityScrubber } from '../persistence/integrity/index.js';
import { startApiServer } from '../services/api/server.js';
import { type Clock, SystemClock } from '../services/clock.js';
import { GovernanceSystem } from '../services/governor/governance-system.js';
import { appendRawEvents } from '../test/support/raw-log.js';

const SIZES = (process.env.BENCH_EVENTS ?? '10000,100000,1000000').split(',').map(Number);
const BENCH_DIR = process.env.BENCH_DIR ?? join(tmpdir(), 'governor-bench-startup');
const RUNTIME = process.env.BENCH_RUNTIME === 'tsx' ? 'tsx' : 'compiled';
const SNAPSHOT_DAYS = 3 * 365;
const POOLS = 100;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const PAGE_ROWS = 1024;
const INCREMENTAL_EVENTS = 10_000;
const LATENESS_INTERVAL_MS = 10;
/** The /livez prober's pause between one answer and the next request. */
const LIVEZ_INTERVAL_MS = 10;

const hashOnce = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string })
  .hash;
const sha256Hex =
  hashOnce === undefined
    ? (text: string) => crypto.createHash('sha256').update(text).digest('hex')
    : (text: string) => hashOnce('sha256', text, 'hex');

interface ChildResult {
  readonly ms: number;
  /** CPU time (user + system, all threads) of the same work. */
  readonly cpuMs: number;
  readonly maxRssMb: number;
  readonly events: number;
  readonly passed?: boolean;
  readonly latenessP99Ms?: number;
  readonly latenessMaxMs?: number;
  /** /livez answer time seen by a prober in another process while the start verified. */
  readonly livezP99Ms?: number;
  readonly livezMaxMs?: number;
  readonly livezProbes?: number;
  readonly incrementalMs?: number;
  readonly longestSliceMs?: number;
  readonly busyMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Children

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function maxRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** The baseline: one thread, pages of raw rows, the documented encoding, links and seq. */
function rawSide(path: string): ChildResult {
  const cpu = process.cpuUsage();
  const started = nowMs();
  const db = new Database(path, { readonly: true });
  const page = db
    .prepare<[number, number], unknown[]>(
      'SELECT seq, event_id, timestamp, event_type, reason, metadata, prev_hash, hash FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
    )
    .raw(true);
  let previousHash = '0'.repeat(64);
  let expectedSeq = 1;
  let problems = 0;
  for (;;) {
    const rows = page.all(expectedSeq - 1, PAGE_ROWS);
    for (const row of rows) {
      const hash = sha256Hex(JSON.stringify(row.slice(0, 7)));
      if (row[0] !== expectedSeq || row[6] !== previousHash || row[7] !== hash) problems++;
      previousHash = row[7] as string;
      expectedSeq = (row[0] as number) + 1;
    }
    if (rows.length < PAGE_ROWS) break;
  }
  db.close();
  if (problems > 0) throw new Error(`baseline found ${problems} problems in the bench log`);
  const ms = nowMs() - started;
  return { ms, cpuMs: cpuMsSince(cpu), maxRssMb: maxRssMb(), events: expectedSeq - 1 };
}

/**
 * A prober in a process of its own: GET /livez every LIVEZ_INTERVAL_MS, one request at a time,
 * each answer's latency on a line; it stops when its stdin closes. Its own event loop is idle,
 * so what it measures is how long governor's process took to answer.
 */
const LIVEZ_PROBER = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let stopping = false;
process.stdin.on('end', () => { stopping = true; });
process.stdin.resume();
function probe() {
  if (stopping) return;
  const started = performance.now();
  http.get(process.argv[1], { agent }, (res) => {
    res.resume();
    res.on('end', () => {
      process.stdout.write((res.statusCode === 200 ? '' : 'x') + (performance.now() - started).toFixed(3) + '\\n');
      setTimeout(probe, ${LIVEZ_INTERVAL_MS});
    });
  }).on('error', () => setTimeout(probe, ${LIVEZ_INTERVAL_MS}));
}
probe();
`;

interface LivezProbe {
  /** Resolves once the prober has had its first answer. */
  readonly ready: Promise<void>;
  /** Stops the prober and returns every latency it saw (ms) and how many answers were not 200. */
  stop(): Promise<{ latenciesMs: number[]; failures: number }>;
}

function probeLivez(url: string): LivezProbe {
  const child = spawn(process.execPath, ['-e', LIVEZ_PROBER, url], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    output += chunk;
    if (output.includes('\n')) markReady();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    ready,
    async stop() {
      child.stdin.end();
      await exited;
      const lines = output.split('\n').filter((line) => line !== '');
      return {
        latenciesMs: lines.map((line) => Number(line.replace('x', ''))),
        failures: lines.filter((line) => line.startsWith('x')).length,
      };
    },
  };
}

/**
 * The one call into GovernanceSystem, kept alone: a start, its checks, and close; the API
 * server runs meanwhile, probed on /livez from another process (the first answer comes before
 * the checks begin, and the probes made before it are not counted).
 */
async function runStartupChecks(
  dbPath: string,
): Promise<{ passed: boolean; livezP99Ms: number; livezMaxMs: number; livezProbes: number }> {
  const gov = new GovernanceSystem({ dbPath, thresholds: { startupChecksTimeoutMs: HOUR_MS } });
  const api = await startApiServer({ governance: gov });
  const prober = probeLivez(`${api.url}/livez`);
  try {
    await prober.ready;
    const skip = 1;
    const passed = await gov.runStartupChecks();
    const { latenciesMs, failures } = await prober.stop();
    if (failures > 0) throw new Error(`/livez failed ${failures} times during the start`);
    const sorted = latenciesMs.slice(skip).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return {
      passed,
      livezP99Ms: at(0.99) ?? Number.NaN,
      livezMaxMs: sorted.at(-1) ?? Number.NaN,
      livezProbes: sorted.length,
    };
  } finally {
    await prober.stop();
    await api.close();
    gov.close();
  }
}

/** Lateness of a 10 ms interval timer while `work` runs: what a /livez probe would wait. */
async function withLateness<T>(
  work: () => Promise<T>,
): Promise<{ result: T; p99Ms: number; maxMs: number }> {
  const lateness: number[] = [];
  let expected = performance.now() + LATENESS_INTERVAL_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    lateness.push(Math.max(0, now - expected));
    expected = now + LATENESS_INTERVAL_MS;
  }, LATENESS_INTERVAL_MS);
  try {
    const result = await work();
    const sorted = lateness.sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return { result, p99Ms: at(0.99) ?? Number.NaN, maxMs: sorted.at(-1) ?? Number.NaN };
  } finally {
    clearInterval(timer);
  }
}

async function governorSide(path: string): Promise<ChildResult> {
  const cpu = process.cpuUsage();
  const started = nowMs();
  const { result: checks, p99Ms, maxMs } = await withLateness(() => runStartupChecks(path));
  const { passed, livezP99Ms, livezMaxMs, livezProbes } = checks;
  const ms = nowMs() - started;
  const store = Store.open(path, { readonly: true });
  const events = store.integrityScan.head()?.seq ?? 0;
  store.close();
  return {
    ms,
    cpuMs: cpuMsSince(cpu),
    maxRssMb: maxRssMb(),
    events,
    passed,
    latenessP99Ms: p99Ms,
    latenessMaxMs: maxMs,
    livezP99Ms,
    livezMaxMs,
    livezProbes,
  };
}

/** The hourly check after 10,000 new events, on a copy (the fixture stays as built). */
async function incrementalSide(path: string): Promise<ChildResult> {
  const store = Store.open(path);
  try {
    const verifier = new DataIntegrityVerifier(store, { writeAnchor: false });
    await verifier.verifyAsync({ full: true });
    const events = (store.integrityScan.head()?.seq ?? 0) + INCREMENTAL_EVENTS;
    store.transaction(() => {
      for (let i = 0; i < INCREMENTAL_EVENTS; i += 1000) {
        store.events.appendBatch(
          Array.from({ length: 1000 }, (_, j) => ({ eventType: 'TRADE', reason: `${i + j}` })),
        );
      }
    });
    const cpu = process.cpuUsage();
    const started = nowMs();
    const found = verifier.verify();
    const ms = nowMs() - started;
    if (found.length > 0 || verifier.getLastRun()?.eventsChecked !== INCREMENTAL_EVENTS) {
      throw new Error(`incremental check: ${found.length} violations`);
    }
    return { ms, cpuMs: cpuMsSince(cpu), maxRssMb: maxRssMb(), events, incrementalMs: ms };
  } finally {
    store.close();
  }
}

/**
 * The same clock, but its monotonic time is this process's CPU time: a slice measured on it
 * excludes the time the thread waited for a core (the scrub's pacing is moot at passMs 1).
 */
function cpuTimeClock(): Clock {
  const system = new SystemClock();
  return {
    wallNow: () => system.wallNow(),
    monotonicNow: () => {
      const used = process.cpuUsage();
      return (used.user + used.system) / 1000;
    },
    setTimeout: (callback, delayMs) => system.setTimeout(callback, delayMs),
    clearTimeout: (handle) => system.clearTimeout(handle),
  };
}

/**
 * One scrub pass with no pause between slices: its whole cost, and its longest slice, in wall
 * time (what the event loop waited) or, with `cpu`, in CPU time (what the slice itself cost).
 */
async function scrubSide(path: string, cpu = false): Promise<ChildResult> {
  const store = Store.open(path, { readonly: true });
  try {
    const verifier = new DataIntegrityVerifier(store, { writeAnchor: false });
    const cpuStart = process.cpuUsage();
    const started = nowMs();
    const problems: string[] = [];
    const scrubber = new IntegrityScrubber({
      verifier,
      clock: cpu ? cpuTimeClock() : new SystemClock(),
      passMs: 1,
      onViolations: (violations) => problems.push(...violations.map((v) => v.description)),
      onError: (error) => problems.push(error.message),
    });
    const { p99Ms, maxMs } = await withLateness(async () => {
      scrubber.start();
      while (scrubber.progress().passesCompleted === 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    const progress = scrubber.progress();
    scrubber.stop();
    if (problems.length > 0) throw new Error(`scrub: ${problems.slice(0, 3).join('; ')}`);
    return {
      ms: nowMs() - started,
      cpuMs: cpuMsSince(cpuStart),
      maxRssMb: maxRssMb(),
      events: progress.rowsInPass,
      busyMs: progress.lastPassBusyMs ?? Number.NaN,
      longestSliceMs: progress.longestSliceMs,
      latenessP99Ms: p99Ms,
      latenessMaxMs: maxMs,
    };
  } finally {
    store.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Parent

/** Builds a fixture once: events spread over three years, snapshots, pools, strategies. */
function fixture(events: number): string {
  const path = join(BENCH_DIR, `events-${events}.db`);
  if (existsSync(path)) return path;
  const started = nowMs();
  const stepMs = Math.floor((SNAPSHOT_DAYS * DAY_MS) / events);
  appendRawEvents(`${path}.building`, events, { stepMs });
  const startMs = Date.now() - SNAPSHOT_DAYS * DAY_MS;
  const store = Store.open(`${path}.building`);
  try {
    for (let day = 0; day < SNAPSHOT_DAYS; day++) {
      store.snapshots.write({
        date: new Date(startMs + day * DAY_MS).toISOString().slice(0, 10),
        data: { equityMinor: 100_000_000 + day, positions: day % 10 },
      });
    }
    store.transaction(() => {
      for (let pool = 0; pool < POOLS; pool++) {
        store.capital.createPool(`pool-${pool}`, { currency: 'USD' });
        for (let account = 0; account < 3; account++) {
          store.capital.createAccount(`pool-${pool}-${account}`, `pool-${pool}`);
          store.capital.deposit(`pool-${pool}-${account}`, 1_000_000n + BigInt(account));
        }
      }
      for (let s = 0; s < 10; s++) store.strategies.register(`strategy-${s}`, 'ACTIVE');
    });
  } finally {
    store.close();
  }
  for (const suffix of ['-wal', '-shm']) rmSync(`${path}.building${suffix}`, { force: true });
  renameSync(`${path}.building`, path);
  const sizeMb = statSync(path).size / 2 ** 20;
  process.stdout.write(
    `built ${events.toLocaleString('en')} events (${sizeMb.toFixed(0)} MB) in ${((nowMs() - started) / 1000).toFixed(1)} s\n`,
  );
  return path;
}

/** This file compiled by tsc (with what it imports) into BENCH_DIR/build: what dist/ runs. */
function compiledEntry(): string {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const build = join(BENCH_DIR, 'build');
  rmSync(build, { recursive: true, force: true });
  mkdirSync(build, { recursive: true });
  const config = join(BENCH_DIR, 'tsconfig.bench.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: {
        outDir: build,
        rootDir: root,
        typeRoots: [join(root, 'node_modules', '@types')],
        declaration: false,
        sourceMap: false,
      },
      files: [fileURLToPath(import.meta.url)],
      include: [],
    }),
  );
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const compiled = spawnSync(process.execPath, [tsc, '-p', config], { encoding: 'utf8' });
  const entry = join(build, relative(root, fileURLToPath(import.meta.url))).replace(/\.ts$/, '.js');
  if (!existsSync(entry)) throw new Error(`tsc emitted nothing: ${compiled.stdout}`);
  if (compiled.status !== 0) {
    process.stdout.write(
      `(tsc reported errors, emitted anyway)\n${compiled.stdout.slice(0, 2000)}\n`,
    );
  }
  symlinkSync(join(root, 'node_modules'), join(build, 'node_modules'), 'dir');
  writeFileSync(join(build, 'package.json'), '{ "type": "module" }\n');
  return entry;
}

function runChild(entry: string, side: string, path: string): ChildResult {
  const args = RUNTIME === 'tsx' ? ['--import', 'tsx', fileURLToPath(import.meta.url)] : [entry];
  const output = execFileSync(process.execPath, [...args, '--child', side, path], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(output.trim().split('\n').pop() ?? '') as ChildResult;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function row(cells: readonly string[]): void {
  process.stdout.write(`${cells.map((cell, i) => cell.padEnd(i === 0 ? 12 : 16)).join('')}\n`);
}

function benchSize(entry: string, events: number): void {
  const path = fixture(events);
  const rounds = Number(process.env.BENCH_ROUNDS ?? (events >= 10_000_000 ? 1 : 3));
  runChild(entry, 'raw', path); // warm the page cache for both sides
  const raw: ChildResult[] = [];
  const governor: ChildResult[] = [];
  for (let round = 0; round < rounds; round++) {
    raw.push(runChild(entry, 'raw', path));
    const result = runChild(entry, 'governor', path);
    if (result.passed !== true) throw new Error('startup checks failed on the bench database');
    governor.push(result);
  }
  const rawMs = median(raw.map((r) => r.ms));
  const governorMs = median(governor.map((r) => r.ms));
  const cpuRatio = median(governor.map((r) => r.cpuMs)) / median(raw.map((r) => r.cpuMs));
  const ratio = governorMs / rawMs;
  const target = events >= 1_000_000 ? (ratio <= 0.8 ? ' OK' : ' MISSED') : '';
  row([
    events.toLocaleString('en'),
    `${rawMs.toFixed(0)} ms`,
    `${governorMs.toFixed(0)} ms`,
    `${ratio.toFixed(2)}${target}`,
    cpuRatio.toFixed(2),
    `${Math.max(...raw.map((r) => r.maxRssMb)).toFixed(0)} / ${Math.max(...governor.map((r) => r.maxRssMb)).toFixed(0)} MB`,
    `${median(governor.map((r) => r.latenessP99Ms ?? Number.NaN)).toFixed(1)} / ${Math.max(...governor.map((r) => r.latenessMaxMs ?? 0)).toFixed(1)} ms`,
    `${Math.max(...governor.map((r) => r.livezP99Ms ?? Number.NaN)).toFixed(1)} / ${Math.max(...governor.map((r) => r.livezMaxMs ?? 0)).toFixed(1)} ms (${governor.reduce((sum, r) => sum + (r.livezProbes ?? 0), 0)})`,
  ]);
  process.stdout.write(
    `${' '.repeat(12)}runs: baseline ${raw.map((r) => r.ms.toFixed(0)).join(' ')}; governor ${governor.map((r) => r.ms.toFixed(0)).join(' ')}\n`,
  );
}

function benchExtras(entry: string, events: number): void {
  const path = fixture(events);
  const scrub = runChild(entry, 'scrub', path);
  const scrubCpu = runChild(entry, 'scrub-cpu', path);
  const perMillion = (ms: number | undefined) => ((ms ?? 0) * 1e3) / Math.max(1, scrub.events);
  process.stdout.write(
    `${events.toLocaleString('en').padEnd(12)}scrub: per 1M events ${perMillion(scrub.busyMs).toFixed(2)} s in slices (${perMillion(scrubCpu.busyMs).toFixed(2)} s CPU); longest slice ${scrub.longestSliceMs?.toFixed(1)} ms (${scrubCpu.longestSliceMs?.toFixed(1)} ms CPU); loop lateness p99 ${scrub.latenessP99Ms?.toFixed(1)} ms\n`,
  );
  if (events > 1_000_000) return;
  const copy = join(BENCH_DIR, `incremental-${events}.db`);
  copyFileSync(path, copy);
  try {
    const incremental = runChild(entry, 'incremental', copy);
    process.stdout.write(
      `${' '.repeat(12)}incremental check of ${INCREMENTAL_EVENTS.toLocaleString('en')} new events: ${incremental.incrementalMs?.toFixed(1)} ms\n`,
    );
  } finally {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${copy}${suffix}`, { force: true });
  }
}

/**
 * What two threads gain on this machine right now: the same SHA-256 work on one thread, then
 * split over two. 2.0 on an idle 2-core box; near 1.0 when other load takes the second core.
 */
async function parallelSpeedup(): Promise<number> {
  const code = `const { workerData, parentPort } = require('node:worker_threads');
const crypto = require('node:crypto');
let h = '';
for (let i = 0; i < workerData; i++) h = crypto.createHash('sha256').update(h + i).digest('hex');
parentPort.postMessage(h.length);`;
  const run = (hashes: number): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData: hashes });
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  let started = nowMs();
  await run(1_000_000);
  const one = nowMs() - started;
  started = nowMs();
  await Promise.all([run(500_000), run(500_000)]);
  return one / (nowMs() - started);
}

async function child(side: string, path: string): Promise<void> {
  const sides: Record<string, (path: string) => Promise<ChildResult> | ChildResult> = {
    raw: rawSide,
    governor: governorSide,
    incremental: incrementalSide,
    scrub: (path) => scrubSide(path),
    'scrub-cpu': (path) => scrubSide(path, true),
  };
  const run = sides[side];
  if (run === undefined) throw new Error(`unknown side ${side}`);
  process.stdout.write(`${JSON.stringify(await run(path))}\n`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    await child(args[1] ?? '', args[2] ?? '');
    return;
  }
  mkdirSync(BENCH_DIR, { recursive: true });
  const entry = RUNTIME === 'tsx' ? '' : compiledEntry();
  process.stdout.write(
    `startup checks vs a paged single-thread raw verifier (${RUNTIME}; fixtures in ${dirname(join(BENCH_DIR, 'x'))})\n`,
  );
  const speedup = await parallelSpeedup();
  process.stdout.write(
    `${availableParallelism()} cores, load average ${loadavg()[0]?.toFixed(1)}; two threads do ${speedup.toFixed(2)}x the work of one right now\n`,
  );
  row([
    'events',
    'baseline',
    'governor',
    'ratio (≤ 0.8)',
    'CPU ratio',
    'peak RSS b/g',
    'loop p99/max',
    '/livez p99/max (n)',
  ]);
  for (const events of SIZES) benchSize(entry, events);
  for (const events of SIZES) benchExtras(entry, events);
  process.stdout.write(
    `at the end: load average ${loadavg()[0]?.toFixed(1)}; two threads do ${(await parallelSpeedup()).toFixed(2)}x the work of one\n`,
  );
}

await main();
