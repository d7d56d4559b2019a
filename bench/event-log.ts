/**
 * Event-log benchmark: governor's durable appends (validation, UUIDv7 ids, hash chain, WAL,
 * synchronous=FULL), batched (1,000 per transaction) and single, at two working points in one run
 * (a log of 10,000 existing events and one of 1,000,000, reset after every run), against raw
 * better-sqlite3 inserts of the same rows (same schema, same kind of ids, same sizes): one INSERT
 * per row, and for batches also 32 rows per INSERT as governor does. Rounds alternate the order
 * of the sides; rates are wall time, with CPU time beside them. Also times one event id against
 * `randomUUID()`. Run: npm run bench:event-log (BENCH_LARGE_EVENTS, BENCH_ROUNDS, BENCH_BATCHES,
 * BENCH_SINGLE_EVENTS to change the sizes).
 */
import { randomFillSync, randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createEventIdGenerator, nextEventId } from '../persistence/event-id.js';
import { computeEventHash, type EventInput, GENESIS_HASH, Store } from '../persistence/index.js';

const SMALL_EVENTS = Number(process.env.BENCH_SMALL_EVENTS ?? 10_000);
const LARGE_EVENTS = Number(process.env.BENCH_LARGE_EVENTS ?? 1_000_000);
const BATCH_SIZE = 1000;
const BATCHES_PER_RUN = Number(process.env.BENCH_BATCHES ?? 20);
const SINGLE_EVENTS_PER_RUN = Number(process.env.BENCH_SINGLE_EVENTS ?? 400);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const IDS_PER_ROUND = 1_000_000;
const FIXTURE_ROWS_PER_STATEMENT = 500;
const FIXTURE_ROWS_PER_TRANSACTION = 100_000;

const INPUT: EventInput = {
  eventType: 'SYSTEM_MODE_CHANGE',
  reason: 'Heartbeat - system alive',
  metadata: { heartbeat: true, uptime: '2d 5h 30m' },
};
const METADATA_TEXT = JSON.stringify(INPUT.metadata);
const COLUMNS = 'seq, event_id, timestamp, event_type, reason, metadata, prev_hash, hash';
const INSERT_SQL = `INSERT INTO events (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

type Kind = 'batched' | 'single';
type Side = 'governor' | 'raw' | 'rawMultiRow';
/** Rows per INSERT of the multi-row raw baseline: as many as governor's batch puts in one. */
const RAW_ROWS_PER_STATEMENT = 32;
type Row = [number, string, string, string, string, string, string, string];

interface WorkingPoint {
  readonly events: number;
  /** Governor's copy and the raw sides' copy of the same fixture. */
  readonly paths: { readonly governor: string; readonly raw: string };
}

const directory = mkdtempSync(join(tmpdir(), 'governor-bench-'));

function seconds(run: () => void): number {
  const started = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * Wall time and CPU time (user + system) of `run`. On a shared box CPU time shows the work done;
 * wall time adds the waits for the disk and for the other processes on the cores.
 */
function timed(events: number, run: () => void): Run {
  const cpuStart = process.cpuUsage();
  const wallSeconds = seconds(run);
  const cpu = process.cpuUsage(cpuStart);
  return { events, seconds: wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** A raw connection with governor's pragmas (WAL, synchronous=FULL, foreign keys). */
function openRaw(path: string): Database.Database {
  const db = new Database(path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * A governor database holding `events` valid, chained events whose UUIDv7 ids are older than any
 * id this process generates: built with multi-row inserts, not through governor, and not timed.
 */
function buildFixture(path: string, events: number): void {
  Store.open(path).close();
  const db = new Database(path);
  db.pragma('synchronous = OFF');
  let fixtureMs = Date.now() - 2 * events;
  const oldId = createEventIdGenerator({
    wallNowMs: () => fixtureMs++,
    fillRandom: (words) => {
      randomFillSync(words);
    },
  });
  const placeholders = Array(FIXTURE_ROWS_PER_STATEMENT).fill('(?, ?, ?, ?, ?, ?, ?, ?)');
  const insertMany = db.prepare(`INSERT INTO events (${COLUMNS}) VALUES ${placeholders.join()}`);
  const insertOne = db.prepare(INSERT_SQL);
  const timestamp = new Date(fixtureMs).toISOString();
  let prevHash = GENESIS_HASH;
  const nextRow = (seq: number): Row => {
    const { eventType, reason } = INPUT;
    const eventId = oldId();
    const fields = { seq, eventId, timestamp, eventType, reason, metadataText: METADATA_TEXT };
    const hash = computeEventHash({ ...fields, prevHash });
    const row: Row = [seq, eventId, timestamp, eventType, reason, METADATA_TEXT, prevHash, hash];
    prevHash = hash;
    return row;
  };
  const insertRange = db.transaction((first: number, last: number) => {
    let seq = first;
    for (; seq + FIXTURE_ROWS_PER_STATEMENT - 1 <= last; seq += FIXTURE_ROWS_PER_STATEMENT) {
      const rows = Array.from({ length: FIXTURE_ROWS_PER_STATEMENT }, (_, i) => nextRow(seq + i));
      insertMany.run(rows.flat());
    }
    for (; seq <= last; seq++) insertOne.run(nextRow(seq));
  });
  for (let first = 1; first <= events; first += FIXTURE_ROWS_PER_TRANSACTION) {
    insertRange(first, Math.min(events, first + FIXTURE_ROWS_PER_TRANSACTION - 1));
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

function prepareWorkingPoint(events: number): WorkingPoint {
  const template = join(directory, `template-${events}.db`);
  const started = process.hrtime.bigint();
  buildFixture(template, events);
  const paths = { governor: join(directory, `governor-${events}.db`), raw: template };
  copyFileSync(template, paths.governor);
  const buildSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(`  fixture of ${events} events built in ${buildSeconds.toFixed(1)} s\n`);
  return { events, paths };
}

/** Drops what the last run appended, so every run starts from the same working point. */
function reset(point: WorkingPoint, side: Side): void {
  const db = openRaw(side === 'governor' ? point.paths.governor : point.paths.raw);
  db.prepare('DELETE FROM events WHERE seq > ?').run(point.events);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** The rows governor would write, precomputed: ids of the same kind, same sizes, no hashing. */
function rawRows(firstSeq: number, count: number): Row[] {
  const timestamp = new Date().toISOString();
  const hash = 'ab'.repeat(32);
  return Array.from({ length: count }, (_, index) => [
    firstSeq + index,
    nextEventId(),
    timestamp,
    INPUT.eventType,
    INPUT.reason,
    METADATA_TEXT,
    hash,
    hash,
  ]);
}

interface Run {
  readonly events: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
}

function runGovernor(path: string, kind: Kind): Run {
  const store = Store.open(path);
  try {
    if (kind === 'single') {
      return timed(SINGLE_EVENTS_PER_RUN, () => {
        for (let index = 0; index < SINGLE_EVENTS_PER_RUN; index++) store.events.append(INPUT);
      });
    }
    const inputs = Array.from({ length: BATCH_SIZE }, () => INPUT);
    return timed(BATCHES_PER_RUN * BATCH_SIZE, () => {
      for (let batch = 0; batch < BATCHES_PER_RUN; batch++) store.events.appendBatch(inputs);
    });
  } finally {
    store.close();
  }
}

type Statements = Array<[Database.Statement, unknown[]]>;

/**
 * Raw inserts of the same rows, one INSERT per row or `rowsPerStatement` rows per INSERT, with
 * every statement's values prepared before the clock starts.
 */
function runRaw(point: WorkingPoint, kind: Kind, rowsPerStatement: number): Run {
  const db = openRaw(point.paths.raw);
  try {
    const insertOne = db.prepare(INSERT_SQL);
    const values = Array<string>(rowsPerStatement).fill('(?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
    const insertMany = db.prepare(`INSERT INTO events (${COLUMNS}) VALUES ${values}`);
    const count = kind === 'single' ? SINGLE_EVENTS_PER_RUN : BATCHES_PER_RUN * BATCH_SIZE;
    const rows = rawRows(point.events + 1, count);
    const perTransaction = kind === 'single' ? 1 : BATCH_SIZE;
    const transactions: Statements[] = [];
    for (let first = 0; first < rows.length; first += perTransaction) {
      const slice = rows.slice(first, first + perTransaction);
      const statements: Statements = [];
      let index = 0;
      for (
        ;
        rowsPerStatement > 1 && index + rowsPerStatement <= slice.length;
        index += rowsPerStatement
      ) {
        statements.push([insertMany, slice.slice(index, index + rowsPerStatement).flat()]);
      }
      for (; index < slice.length; index++) statements.push([insertOne, slice[index] ?? []]);
      transactions.push(statements);
    }
    const write = db.transaction((statements: Statements) => {
      for (const [statement, parameters] of statements) statement.run(parameters);
    }).immediate;
    return timed(count, () => {
      for (const statements of transactions) write(statements);
    });
  } finally {
    db.close();
  }
}

function runSide(point: WorkingPoint, kind: Kind, side: Side): Run {
  if (side === 'governor') return runGovernor(point.paths.governor, kind);
  return runRaw(point, kind, side === 'raw' ? 1 : RAW_ROWS_PER_STATEMENT);
}

interface Cell {
  events: number;
  seconds: number;
  cpuSeconds: number;
  readonly perRound: number[];
}

/** Batched appends are also compared with raw multi-row inserts, the technique governor uses. */
const SIDES: Record<Kind, readonly Side[]> = {
  batched: ['governor', 'raw', 'rawMultiRow'],
  single: ['governor', 'raw'],
};

type Results = Record<Kind, Map<number, Map<Side, Cell>>>;

function emptyResults(points: readonly WorkingPoint[]): Results {
  const cells = (kind: Kind): Map<number, Map<Side, Cell>> =>
    new Map(
      points.map((point) => [
        point.events,
        new Map(
          SIDES[kind].map((side) => [side, { events: 0, seconds: 0, cpuSeconds: 0, perRound: [] }]),
        ),
      ]),
    );
  return { batched: cells('batched'), single: cells('single') };
}

/** One round: every kind at every working point and side, in an order that rotates by round. */
function runRound(round: number, points: readonly WorkingPoint[], results: Results | null): void {
  const orderedPoints = round % 2 === 0 ? points : [...points].reverse();
  for (const kind of ['batched', 'single'] as const) {
    const sides = SIDES[kind];
    const shift = Math.floor(round / 2) % sides.length;
    const rotated = [...sides.slice(shift), ...sides.slice(0, shift)];
    for (const point of orderedPoints) {
      for (const side of rotated) {
        const run = runSide(point, kind, side);
        reset(point, side);
        const cell = results?.[kind].get(point.events)?.get(side);
        if (cell === undefined) continue;
        cell.events += run.events;
        cell.seconds += run.seconds;
        cell.cpuSeconds += run.cpuSeconds;
        cell.perRound.push(run.events / run.seconds);
      }
    }
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function rate(cell: Cell): number {
  return cell.events / cell.seconds;
}

function cpuMicrosecondsPerEvent(cell: Cell): string {
  return ((cell.cpuSeconds * 1e6) / cell.events).toFixed(2);
}

/** Ratio of the totals, the median of each round's ratio, and whether it meets `target`. */
function ratio(numerator: Cell, denominator: Cell, target?: number): string {
  const total = rate(numerator) / rate(denominator);
  const perRound = numerator.perRound.map(
    (value, index) => value / (denominator.perRound[index] ?? 0),
  );
  const verdict = target === undefined ? '' : total >= target ? ' met' : ' MISSED';
  return `${total.toFixed(3)} (median ${median(perRound).toFixed(3)})${verdict}`;
}

const tableRow = (cells: readonly string[]): string => `| ${cells.join(' | ')} |\n`;

/** Markdown tables: each working point against the raw inserts, then 1M against 10k. */
function report(results: Results, small: number, large: number): void {
  let text = tableRow([
    'append',
    'existing events',
    'governor events/s',
    'raw events/s',
    'governor / raw (≥ 0.85)',
    'raw 32-row events/s',
    'governor / raw 32-row',
    'CPU µs/event: governor, raw, raw 32-row',
  ]);
  text += tableRow(Array<string>(8).fill('---'));
  for (const kind of ['batched', 'single'] as const) {
    for (const events of [small, large]) {
      const cells = results[kind].get(events);
      const [governor, raw] = [cells?.get('governor'), cells?.get('raw')];
      const multiRow = cells?.get('rawMultiRow');
      if (governor === undefined || raw === undefined) continue;
      text += tableRow([
        kind,
        events.toLocaleString('en-US'),
        rate(governor).toFixed(0),
        rate(raw).toFixed(0),
        ratio(governor, raw, 0.85),
        multiRow === undefined ? '' : rate(multiRow).toFixed(0),
        multiRow === undefined ? '' : ratio(governor, multiRow),
        [governor, raw, multiRow]
          .flatMap((cell) => (cell === undefined ? [] : [cpuMicrosecondsPerEvent(cell)]))
          .join(', '),
      ]);
    }
  }
  text += `\n${tableRow(['append', 'side', `at ${large.toLocaleString('en-US')} / at ${small.toLocaleString('en-US')} events`])}`;
  text += tableRow(['---', '---', '---']);
  for (const kind of ['batched', 'single'] as const) {
    for (const side of SIDES[kind]) {
      const before = results[kind].get(small)?.get(side);
      const after = results[kind].get(large)?.get(side);
      if (before === undefined || after === undefined) continue;
      const target = side === 'governor' ? 0.8 : undefined;
      text += tableRow([kind, side, `${ratio(after, before, target)}${target ? ' (≥ 0.8)' : ''}`]);
    }
  }
  process.stdout.write(text);
}

/** ns per id for the UUIDv7 generator and for `randomUUID()`, alternating rounds. */
function idCost(): void {
  const nsPerId = { uuidV7: [] as number[], randomUuid: [] as number[] };
  let checksum = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const sides = [
      ['uuidV7', nextEventId],
      ['randomUuid', randomUUID],
    ] as const;
    for (const [name, generate] of round % 2 === 0 ? sides : [...sides].reverse()) {
      const taken = seconds(() => {
        // charCodeAt flattens the string, as binding it to SQLite or hashing it would.
        for (let index = 0; index < IDS_PER_ROUND; index++) checksum += generate().charCodeAt(35);
      });
      nsPerId[name].push((taken * 1e9) / IDS_PER_ROUND);
    }
  }
  if (checksum === 0) throw new Error('the id loop was optimised away');
  const [v7, v4] = [median(nsPerId.uuidV7), median(nsPerId.randomUuid)];
  process.stdout.write(
    `event id: UUIDv7 ${v7.toFixed(1)} ns, randomUUID() ${v4.toFixed(1)} ns ` +
      `(median of ${ROUNDS} rounds; ratio ${(v7 / v4).toFixed(2)})\n`,
  );
}

try {
  process.stdout.write(
    `event-log benchmark: WAL, synchronous=FULL, ${ROUNDS} alternating rounds, temp files in ${directory}\n` +
      `  batched: ${BATCHES_PER_RUN} transactions of ${BATCH_SIZE} per run; single: ${SINGLE_EVENTS_PER_RUN} transactions per run\n`,
  );
  idCost();
  const points = [prepareWorkingPoint(SMALL_EVENTS), prepareWorkingPoint(LARGE_EVENTS)];
  const results = emptyResults(points);
  runRound(0, points, null); // warm-up: page cache, JIT
  for (let round = 0; round < ROUNDS; round++) runRound(round, points, results);
  report(results, SMALL_EVENTS, LARGE_EVENTS);
} finally {
  rmSync(directory, { recursive: true, force: true });
}
