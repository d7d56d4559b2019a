/**
 * A large, valid event log built quickly for tests and benchmarks: the governor schema from
 * `Store.open`, then raw multi-row INSERTs with correct chain hashes (`computeEventHash`), one
 * transaction per 10,000 events. The rows look like what a trading engine writes: a heartbeat
 * every tenth event, trade decisions with small JSON metadata.
 */
import Database from 'better-sqlite3';
import { computeEventHash, GENESIS_HASH, Store } from '../../persistence/index.js';

const ROWS_PER_INSERT = 100;
const ROWS_PER_TRANSACTION = 10_000;

export interface RawLogOptions {
  /** Wall time (ms) of the first event. Default: so that the last is an hour before now. */
  readonly startMs?: number;
  /** Wall time between two events. Default 10 ms. */
  readonly stepMs?: number;
}

function eventAt(index: number): { eventType: string; reason: string; metadataText: string } {
  if (index % 10 === 0) {
    return {
      eventType: 'SYSTEM_MODE_CHANGE',
      reason: 'Heartbeat - system alive',
      metadataText: JSON.stringify({ heartbeat: true, uptime: '2d 5h 30m' }),
    };
  }
  return {
    eventType: 'TRADE_DECISION',
    reason: `order ${index} considered`,
    metadataText: JSON.stringify({
      strategy: `s-${index % 7}`,
      priceMinor: 1_000_000 + index,
      qty: index % 13,
      side: 'BUY',
    }),
  };
}

/** Appends `events` valid events after the log's current head at `path` (created if missing). */
export function appendRawEvents(path: string, events: number, options: RawLogOptions = {}): void {
  Store.open(path).close(); // the schema, migrated
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const head = db
      .prepare<[], { seq: number; hash: string }>(
        'SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1',
      )
      .get();
    let seq = head?.seq ?? 0;
    let prevHash = head?.hash ?? GENESIS_HASH;
    const stepMs = options.stepMs ?? 10;
    const startMs = options.startMs ?? Date.now() - 3_600_000 - (seq + events) * stepMs;
    const placeholders = Array.from({ length: ROWS_PER_INSERT }, () => '(?,?,?,?,?,?,?,?)');
    const insertMany = db.prepare(
      `INSERT INTO events (seq, event_id, timestamp, event_type, reason, metadata, prev_hash, hash) VALUES ${placeholders.join(',')}`,
    );
    const insertOne = db.prepare(
      'INSERT INTO events (seq, event_id, timestamp, event_type, reason, metadata, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)',
    );
    const target = seq + events;
    while (seq < target) {
      db.transaction(() => {
        const end = Math.min(target, seq + ROWS_PER_TRANSACTION);
        while (seq < end) {
          const count = Math.min(ROWS_PER_INSERT, end - seq);
          const values: Array<string | number> = [];
          for (let i = 0; i < count; i++) {
            seq++;
            const { eventType, reason, metadataText } = eventAt(seq);
            const eventId = `raw-${seq.toString(36)}-${(seq * 2654435761) % 4294967296}`;
            const timestamp = new Date(startMs + seq * stepMs).toISOString();
            const hash = computeEventHash({
              seq,
              eventId,
              timestamp,
              eventType,
              reason,
              metadataText,
              prevHash,
            });
            values.push(seq, eventId, timestamp, eventType, reason, metadataText, prevHash, hash);
            prevHash = hash;
          }
          if (count === ROWS_PER_INSERT) insertMany.run(values);
          else for (let i = 0; i < count; i++) insertOne.run(values.slice(i * 8, i * 8 + 8));
        }
      })();
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}
