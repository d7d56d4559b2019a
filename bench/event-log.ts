/**
 * Event-log benchmark: governor's durable append (hash chain, validation, WAL, synchronous=FULL)
 * against raw better-sqlite3 inserts of the same rows with the same pragmas, in the same run, on
 * temp files. Prints events/s for each and the ratio governor/raw. Run: npm run bench:event-log.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type EventInput, Store } from '../persistence/index.js';

const SINGLE_EVENTS_PER_RUN = Number(process.env.BENCH_SINGLE_EVENTS ?? 500);
const BATCHES_PER_RUN = Number(process.env.BENCH_BATCHES ?? 40);
const BATCH_SIZE = 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);

const INPUT: EventInput = {
  eventType: 'SYSTEM_MODE_CHANGE',
  reason: 'Heartbeat - system alive',
  metadata: { heartbeat: true, uptime: '2d 5h 30m' },
};

const directory = mkdtempSync(join(tmpdir(), 'governor-bench-'));
let fileCounter = 0;
const freshPath = (): string => join(directory, `bench-${fileCounter++}.db`);

/** A raw database with the same pragmas and the same events table as governor's. */
function openRaw(path: string): { db: Database.Database; insert: Database.Statement } {
  const db = new Database(path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY CHECK (seq >= 1), event_id TEXT NOT NULL UNIQUE,
    timestamp TEXT NOT NULL, event_type TEXT NOT NULL, reason TEXT NOT NULL, metadata TEXT NOT NULL,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL)`);
  return { db, insert: db.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)') };
}

/** Precomputed rows for the raw side: no hashing, no validation, no serialisation. */
function rawRows(count: number): unknown[][] {
  const metadataText = JSON.stringify(INPUT.metadata);
  const hash = 'ab'.repeat(32);
  const timestamp = new Date().toISOString();
  return Array.from({ length: count }, (_, index) => [
    index + 1,
    randomUUID(),
    timestamp,
    INPUT.eventType,
    INPUT.reason,
    metadataText,
    hash,
    hash,
  ]);
}

function timeIt(run: () => void): number {
  const started = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function rawSingle(count: number): number {
  const { db, insert } = openRaw(freshPath());
  const rows = rawRows(count);
  const one = db.transaction((row: unknown[]) => insert.run(row)).immediate;
  const seconds = timeIt(() => {
    for (const row of rows) one(row);
  });
  db.close();
  return seconds;
}

function governorSingle(count: number): number {
  const store = Store.open(freshPath());
  const seconds = timeIt(() => {
    for (let index = 0; index < count; index++) store.events.append(INPUT);
  });
  store.close();
  return seconds;
}

function rawBatched(batches: number): number {
  const { db, insert } = openRaw(freshPath());
  const rows = rawRows(batches * BATCH_SIZE);
  const many = db.transaction((slice: unknown[][]) => {
    for (const row of slice) insert.run(row);
  }).immediate;
  const seconds = timeIt(() => {
    for (let batch = 0; batch < batches; batch++)
      many(rows.slice(batch * BATCH_SIZE, (batch + 1) * BATCH_SIZE));
  });
  db.close();
  return seconds;
}

function governorBatched(batches: number): number {
  const store = Store.open(freshPath());
  const inputs = Array.from({ length: BATCH_SIZE }, () => INPUT);
  const seconds = timeIt(() => {
    for (let batch = 0; batch < batches; batch++) store.events.appendBatch(inputs);
  });
  store.close();
  return seconds;
}

interface Comparison {
  readonly name: string;
  readonly events: number;
  readonly raw: () => number;
  readonly governor: () => number;
}

/** Interleaves the two sides round by round (alternating which goes first) and sums the times. */
function compare({ name, events, raw, governor }: Comparison): void {
  raw(); // warm-up: page cache, JIT
  governor();
  let rawSeconds = 0;
  let governorSeconds = 0;
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const [first, second] = round % 2 === 0 ? [raw, governor] : [governor, raw];
    const firstSeconds = first();
    const secondSeconds = second();
    const [r, g] = round % 2 === 0 ? [firstSeconds, secondSeconds] : [secondSeconds, firstSeconds];
    rawSeconds += r;
    governorSeconds += g;
    ratios.push(r / g);
  }
  const total = events * ROUNDS;
  ratios.sort((a, b) => a - b);
  const median = ratios[Math.floor(ratios.length / 2)] ?? 0;
  const rawRate = total / rawSeconds;
  const governorRate = total / governorSeconds;
  process.stdout.write(
    `${name}\n  raw better-sqlite3: ${rawRate.toFixed(0)} events/s\n  governor:           ${governorRate.toFixed(0)} events/s\n` +
      `  ratio governor/raw: ${(governorRate / rawRate).toFixed(3)} (median of ${ROUNDS} rounds: ${median.toFixed(3)})\n`,
  );
}

try {
  process.stdout.write(
    `event-log benchmark: WAL, synchronous=FULL, ${ROUNDS} interleaved rounds, temp files in ${directory}\n`,
  );
  compare({
    name: `durable single-event append (${SINGLE_EVENTS_PER_RUN} transactions per round)`,
    events: SINGLE_EVENTS_PER_RUN,
    raw: () => rawSingle(SINGLE_EVENTS_PER_RUN),
    governor: () => governorSingle(SINGLE_EVENTS_PER_RUN),
  });
  compare({
    name: `batched append (${BATCHES_PER_RUN} transactions of ${BATCH_SIZE} per round)`,
    events: BATCHES_PER_RUN * BATCH_SIZE,
    raw: () => rawBatched(BATCHES_PER_RUN),
    governor: () => governorBatched(BATCHES_PER_RUN),
  });
} finally {
  rmSync(directory, { recursive: true, force: true });
}
