/**
 * Startup-check benchmark: governor's full startup checks over 1,000,000 events, three years of
 * daily snapshots and 100 pools, against a raw baseline in the same run (better-sqlite3
 * `.raw().iterate()` over the same rows plus one `crypto.hash` per row). Each side runs in its
 * own child process so peak RSS is its own. Also times the incremental check of 10,000 new
 * events. Run: npm run bench:startup (BENCH_EVENTS, BENCH_ROUNDS to change the size).
 */
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type EventInput, Store } from '../persistence/index.js';
import { SystemClock } from '../services/clock.js';
import { DataIntegrityVerifier } from '../services/health/data-integrity.js';
import { runStartupCheckSuite } from '../services/health/startup-checks.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH_SIZE = 10_000;
const SNAPSHOT_DAYS = 3 * 365;
const POOLS = 100;
const INCREMENTAL_EVENTS = 10_000;
const DAY_MS = 86_400_000;

const hashOnce = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string })
  .hash;
const sha256Hex =
  hashOnce === undefined
    ? (text: string) => crypto.createHash('sha256').update(text).digest('hex')
    : (text: string) => hashOnce('sha256', text, 'hex');

interface ChildResult {
  readonly side: string;
  readonly ms: number;
  /** CPU time (user + system) of the same work: steadier than wall time on a busy machine. */
  readonly cpuMs: number;
  readonly maxRssMb: number;
  readonly rows: number;
  readonly incrementalMs?: number;
  readonly passed?: boolean;
}

function eventBatch(first: number): EventInput[] {
  return Array.from({ length: BATCH_SIZE }, (_, index) => ({
    eventType: index % 10 === 0 ? 'SYSTEM_MODE_CHANGE' : 'TRADE_DECISION',
    reason: index % 10 === 0 ? 'Heartbeat - system alive' : `order ${first + index} considered`,
    metadata:
      index % 10 === 0
        ? { heartbeat: true, uptime: '2d 5h 30m' }
        : {
            strategy: `s-${index % 7}`,
            priceMinor: 1_000_000 + index,
            qty: index % 13,
            side: 'BUY',
          },
  }));
}

/** Builds the database once: events in batches of 10,000, snapshots, pools, strategies. */
function build(path: string): void {
  const startMs = Date.now() - SNAPSHOT_DAYS * DAY_MS;
  const stepMs = Math.floor(
    (SNAPSHOT_DAYS * DAY_MS - 10 * 60_000) / (EVENTS / BATCH_SIZE + SNAPSHOT_DAYS + 1000),
  );
  let wall = startMs;
  const store = Store.open(path, { clock: { wallNow: () => (wall += stepMs) } });
  try {
    for (let first = 0; first < EVENTS; first += BATCH_SIZE)
      store.events.appendBatch(eventBatch(first));
    for (let day = 0; day < SNAPSHOT_DAYS; day++) {
      store.snapshots.write({
        date: new Date(startMs + day * DAY_MS).toISOString().slice(0, 10),
        data: {
          equityMinor: 100_000_000 + day,
          positions: Array.from({ length: 10 }, (_, i) => ({ pool: `pool-${i}`, qty: day + i })),
        },
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
}

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

/** The baseline: open, iterate the same rows raw, one SHA-256 per event row. */
function rawSide(path: string): ChildResult {
  const cpu = process.cpuUsage();
  const started = nowMs();
  const db = new Database(path, { readonly: true });
  let rows = 0;
  let last = '';
  const events = db
    .prepare(
      'SELECT seq, event_id, timestamp, event_type, reason, metadata, prev_hash, hash FROM events ORDER BY seq',
    )
    .raw(true);
  for (const row of events.iterate() as IterableIterator<unknown[]>) {
    last = sha256Hex(`${row[0]}${row[1]}${row[2]}${row[3]}${row[4]}${row[5]}${row[6]}`);
    rows++;
  }
  for (const table of [
    'snapshots',
    'capital_pools',
    'capital_accounts',
    'strategies',
    'strategy_transitions',
    'system_state',
  ]) {
    for (const _row of db.prepare(`SELECT * FROM ${table}`).raw(true).iterate()) rows++;
  }
  db.close();
  if (last.length !== 64) throw new Error('baseline hashed nothing');
  return { side: 'raw', ms: nowMs() - started, cpuMs: cpuMsSince(cpu), maxRssMb: maxRssMb(), rows };
}

/** governor: open the store and run the six startup checks (full verification). */
async function governorSide(path: string, incremental: boolean): Promise<ChildResult> {
  const cpu = process.cpuUsage();
  const started = nowMs();
  const store = Store.open(path);
  const verifier = new DataIntegrityVerifier(store);
  const report = await runStartupCheckSuite(
    { store, verifier, clock: new SystemClock(), adapterPingTimeoutMs: 5000 },
    [],
    { lifecycleId: 'bench', visit: 1 },
  );
  const ms = nowMs() - started;
  const cpuMs = cpuMsSince(cpu);
  const rows = verifier.getLastRun()?.eventsChecked ?? 0;
  let incrementalMs: number | undefined;
  if (incremental) {
    store.events.appendBatch(eventBatch(EVENTS));
    const before = nowMs();
    const violations = verifier.verify();
    incrementalMs = nowMs() - before;
    const checked = verifier.getLastRun()?.eventsChecked;
    if (violations.length > 0 || checked !== INCREMENTAL_EVENTS) {
      throw new Error(
        `incremental check: ${violations.length} violations, ${checked} events checked`,
      );
    }
  }
  store.close();
  return {
    side: 'governor',
    ms,
    cpuMs,
    maxRssMb: maxRssMb(),
    rows,
    passed: report.passed,
    ...(incrementalMs === undefined ? {} : { incrementalMs }),
  };
}

function runChild(side: string, path: string, extra: string[] = []): ChildResult {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', side, path, ...extra],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (child.status !== 0) throw new Error(`${side} child failed: ${child.stderr}`);
  const line = child.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as ChildResult;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const [, side, path, flag] = args;
    if (path === undefined) throw new Error('child: missing path');
    const result =
      side === 'raw' ? rawSide(path) : await governorSide(path, flag === '--incremental');
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  // BENCH_DB: keep the built database at this path and reuse it on later runs.
  const kept = process.env.BENCH_DB;
  const directory =
    kept === undefined ? mkdtempSync(join(tmpdir(), 'governor-bench-startup-')) : null;
  const path = kept ?? join(directory ?? '', 'startup.db');
  try {
    if (!existsSync(path)) {
      const buildStarted = nowMs();
      build(path);
      process.stdout.write(
        `built ${EVENTS.toLocaleString('en')} events, ${SNAPSHOT_DAYS} snapshots, ${POOLS} pools in ${((nowMs() - buildStarted) / 1000).toFixed(1)} s\n`,
      );
    }
    runChild('raw', path); // warm the page cache for both sides
    const raw: ChildResult[] = [];
    const governor: ChildResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      raw.push(runChild('raw', path));
      const result = runChild('governor', path);
      if (result.passed !== true) throw new Error('startup checks failed on the bench database');
      governor.push(result);
    }
    // The incremental run appends 10,000 events: on a copy, so the built database stays as built.
    const copy = `${path}.incremental.db`;
    copyFileSync(path, copy);
    if (existsSync(`${path}.head.json`)) copyFileSync(`${path}.head.json`, `${copy}.head.json`);
    const incremental = runChild('governor', copy, ['--incremental']);
    for (const file of [copy, `${copy}-wal`, `${copy}-shm`, `${copy}.head.json`])
      rmSync(file, { force: true });
    const rawMs = median(raw.map((r) => r.ms));
    const governorMs = median(governor.map((r) => r.ms));
    const rawCpuMs = median(raw.map((r) => r.cpuMs));
    const governorCpuMs = median(governor.map((r) => r.cpuMs));
    const table = [
      ['side', 'median ms', 'median CPU ms', 'runs ms', 'peak RSS MB'],
      [
        'raw baseline',
        rawMs.toFixed(0),
        rawCpuMs.toFixed(0),
        raw.map((r) => r.ms.toFixed(0)).join(' '),
        Math.max(...raw.map((r) => r.maxRssMb)).toFixed(0),
      ],
      [
        'governor startup checks',
        governorMs.toFixed(0),
        governorCpuMs.toFixed(0),
        governor.map((r) => r.ms.toFixed(0)).join(' '),
        Math.max(...governor.map((r) => r.maxRssMb)).toFixed(0),
      ],
    ];
    for (const row of table) {
      process.stdout.write(
        `${row.map((cell, i) => cell.padEnd(i === 0 ? 26 : i === 3 ? 34 : 15)).join('')}\n`,
      );
    }
    const ratio = governorMs / rawMs;
    const cpuRatio = governorCpuMs / rawCpuMs;
    const peak = Math.max(...governor.map((r) => r.maxRssMb), incremental.maxRssMb);
    process.stdout.write(
      `ratio governor/raw: ${ratio.toFixed(2)} wall, ${cpuRatio.toFixed(2)} CPU (target ≤ 1.30) ${ratio <= 1.3 ? 'OK' : 'OVER'}\n`,
    );
    process.stdout.write(
      `governor peak RSS: ${peak.toFixed(0)} MB (target < 300 MB) ${peak < 300 ? 'OK' : 'OVER'}\n`,
    );
    process.stdout.write(
      `incremental check of ${INCREMENTAL_EVENTS.toLocaleString('en')} new events: ${incremental.incrementalMs?.toFixed(1)} ms\n`,
    );
  } finally {
    if (directory !== null) rmSync(directory, { recursive: true, force: true });
  }
}

await main();
