/**
 * The corruption toolkit for tests: copies a governor database and damages the copy in one of
 * many named ways (logical corruptions through a raw SQLite connection, or physical damage to
 * the file's bytes). Each logical corruption says which verifier check must name it.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import Database from 'better-sqlite3';
import { computeEventHash, GENESIS_HASH } from '../../persistence/index.js';
import { headAnchorPathFor } from '../../persistence/integrity/head-anchor.js';
import type { IntegrityCheckName } from '../../persistence/integrity/index.js';

/** Copies a closed database (checkpointing its WAL first) and its head anchor. */
export function copyDatabase(sourcePath: string, targetPath: string): void {
  const source = new Database(sourcePath);
  try {
    source.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    source.close();
  }
  copyFileSync(sourcePath, targetPath);
  const anchor = headAnchorPathFor(sourcePath);
  const targetAnchor = headAnchorPathFor(targetPath);
  if (anchor !== null && targetAnchor !== null && existsSync(anchor)) {
    copyFileSync(anchor, targetAnchor);
  }
}

/** Opens a raw connection for tampering; closing it checkpoints. */
export function openRaw(path: string): Database.Database {
  return new Database(path, { timeout: 5000 });
}

export type CorruptionName =
  | 'duplicate-event-id'
  | 'deleted-event'
  | 'reordered-timestamps'
  | 'future-timestamp'
  | 'edited-metadata'
  | 'edited-hash'
  | 'rewritten-tail'
  | 'truncated-log'
  | 'duplicate-snapshot-date'
  | 'out-of-order-snapshots'
  | 'malformed-snapshot'
  | 'balance-off-by-one'
  | 'invalid-strategy-state'
  | 'invalid-strategy-transition'
  | 'invalid-mode'
  | 'whole-chain-rewrite';

export interface Corruption {
  readonly name: CorruptionName;
  /** The verifier check that must report it. */
  readonly check: IntegrityCheckName;
  /** A violation of that check must match this. */
  readonly description: RegExp;
  /**
   * Damages the database through `db`, at a place chosen from `pick` (any natural number).
   * `anchoredSeq` is the seq of the head anchor beside the copy: only anchored history can be
   * checked against it, so tail rewrites and truncations start at or before it.
   */
  readonly apply: (
    db: Database.Database,
    pick: number,
    anchoredSeq: number,
  ) => Record<string, string | number>;
}

interface EventRow {
  seq: number;
  event_id: string;
  timestamp: string;
  event_type: string;
  reason: string;
  metadata: string;
  prev_hash: string;
  hash: string;
}

function eventCount(db: Database.Database): number {
  return db.prepare<[], number>('SELECT max(seq) FROM events').pluck().get() ?? 0;
}

/** Re-hashes the chain from `fromSeq` to the end, so only the intended damage remains. */
export function rehashFrom(db: Database.Database, fromSeq: number): void {
  const rows = db
    .prepare<[number], EventRow>('SELECT * FROM events WHERE seq >= ? ORDER BY seq')
    .all(fromSeq);
  let prevHash =
    fromSeq === 1
      ? GENESIS_HASH
      : (db
          .prepare<[number], string>('SELECT hash FROM events WHERE seq = ?')
          .pluck()
          .get(fromSeq - 1) ?? GENESIS_HASH);
  const update = db.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?');
  db.transaction(() => {
    for (const row of rows) {
      const hash = computeEventHash({
        seq: row.seq,
        eventId: row.event_id,
        timestamp: row.timestamp,
        eventType: row.event_type,
        reason: row.reason,
        metadataText: row.metadata,
        prevHash,
      });
      update.run(prevHash, hash, row.seq);
      prevHash = hash;
    }
  })();
}

/** Rebuilds a table without its UNIQUE/PRIMARY KEY constraint, keeping its rows. */
function loosen(db: Database.Database, table: 'events' | 'snapshots'): void {
  const columns =
    table === 'events'
      ? 'seq INTEGER, event_id TEXT, timestamp TEXT, event_type TEXT, reason TEXT, metadata TEXT, prev_hash TEXT, hash TEXT'
      : 'date TEXT, data TEXT, written_at TEXT';
  db.exec(`
    CREATE TABLE ${table}_loose (${columns});
    INSERT INTO ${table}_loose SELECT * FROM ${table};
    DROP TABLE ${table};
    ALTER TABLE ${table}_loose RENAME TO ${table};
  `);
}

const INVALID_MOVE: Readonly<Record<string, string>> = {
  INACTIVE: 'PAUSED',
  ACTIVE: 'ACTIVE',
  PAUSED: 'PAUSED',
  RETIRED: 'ACTIVE',
};

function nth<T>(rows: readonly T[], pick: number): T {
  const row = rows[pick % rows.length];
  if (row === undefined) throw new Error('corrupt: nothing to corrupt');
  return row;
}

/** Every logical corruption, each detected by the named check. */
export const CORRUPTIONS: readonly Corruption[] = [
  {
    name: 'duplicate-event-id',
    check: 'EVENT_LOG',
    description: /duplicate event id/,
    apply(db, pick) {
      const n = eventCount(db);
      const target = 2 + (pick % (n - 1));
      const source = 1 + ((pick >> 3) % (target - 1));
      loosen(db, 'events');
      db.prepare(
        'UPDATE events SET event_id = (SELECT event_id FROM events WHERE seq = ?) WHERE seq = ?',
      ).run(source, target);
      rehashFrom(db, target);
      return { seq: target, copiedFrom: source };
    },
  },
  {
    name: 'deleted-event',
    check: 'EVENT_LOG',
    description: /seq gap at seq/,
    apply(db, pick) {
      const seq = 1 + (pick % (eventCount(db) - 1));
      db.prepare('DELETE FROM events WHERE seq = ?').run(seq);
      return { seq };
    },
  },
  {
    name: 'reordered-timestamps',
    check: 'EVENT_LOG',
    description: /timestamp goes backwards/,
    apply(db, pick) {
      // Moves event `seq` two days before its predecessor (beyond the 24 h clock-step
      // tolerance) and re-hashes, so only the order of time is wrong.
      const seq = 2 + (pick % (eventCount(db) - 1));
      const previous = db
        .prepare<[number], string>('SELECT timestamp FROM events WHERE seq = ?')
        .pluck()
        .get(seq - 1);
      const moved = new Date(Date.parse(previous ?? '') - 2 * 86_400_000).toISOString();
      db.prepare('UPDATE events SET timestamp = ? WHERE seq = ?').run(moved, seq);
      rehashFrom(db, seq);
      return { seq };
    },
  },
  {
    name: 'future-timestamp',
    check: 'EVENT_LOG',
    description: /timestamp in the future/,
    apply(db, pick) {
      const seq = 1 + (pick % eventCount(db));
      db.prepare("UPDATE events SET timestamp = '2099-01-01T00:00:00.000Z' WHERE seq = ?").run(seq);
      rehashFrom(db, seq);
      return { seq };
    },
  },
  {
    name: 'edited-metadata',
    check: 'EVENT_LOG',
    description: /hash mismatch at seq/,
    apply(db, pick) {
      const seq = 1 + (pick % eventCount(db));
      db.prepare(`UPDATE events SET metadata = '{"edited":true}' WHERE seq = ?`).run(seq);
      return { seq };
    },
  },
  {
    name: 'edited-hash',
    check: 'EVENT_LOG',
    description: /hash mismatch at seq/,
    apply(db, pick) {
      const seq = 1 + (pick % eventCount(db));
      db.prepare(`UPDATE events SET hash = '${'ab'.repeat(32)}' WHERE seq = ?`).run(seq);
      return { seq };
    },
  },
  {
    name: 'rewritten-tail',
    check: 'EVENT_LOG',
    description: /head anchor mismatch/,
    apply(db, pick, anchoredSeq) {
      const seq = 1 + (pick % anchoredSeq);
      db.prepare("UPDATE events SET reason = reason || ' (rewritten)' WHERE seq >= ?").run(seq);
      rehashFrom(db, seq);
      return { seq };
    },
  },
  {
    name: 'truncated-log',
    check: 'EVENT_LOG',
    description: /log ends before seq/,
    apply(db, pick, anchoredSeq) {
      const keep = pick % anchoredSeq;
      db.prepare('DELETE FROM events WHERE seq > ?').run(keep);
      return { keptUpTo: keep };
    },
  },
  {
    name: 'duplicate-snapshot-date',
    check: 'SNAPSHOTS',
    description: /more than one snapshot/,
    apply(db, pick) {
      const dates = db
        .prepare<[], string>('SELECT date FROM snapshots ORDER BY date')
        .pluck()
        .all();
      const date = nth(dates, pick);
      loosen(db, 'snapshots');
      db.prepare(
        'INSERT INTO snapshots SELECT date, data, written_at FROM snapshots WHERE date = ?',
      ).run(date);
      return { date };
    },
  },
  {
    name: 'out-of-order-snapshots',
    check: 'SNAPSHOTS',
    description: /inserted after the snapshot of the later date/,
    apply(db, pick) {
      const dates = db
        .prepare<[], string>('SELECT date FROM snapshots ORDER BY date')
        .pluck()
        .all();
      const first = pick % (dates.length - 1);
      const second = first + 1 + ((pick >> 4) % (dates.length - 1 - first));
      const [a, b] = [dates[first], dates[second]];
      // Swap the dates of two rows: the later-inserted row now holds the earlier date.
      const rename = db.prepare('UPDATE snapshots SET date = ? WHERE date = ?');
      rename.run('0000-00-00', a);
      rename.run(a, b);
      rename.run(b, '0000-00-00');
      return { date: String(a), swappedWith: String(b) };
    },
  },
  {
    name: 'malformed-snapshot',
    check: 'SNAPSHOTS',
    description: /not valid JSON/,
    apply(db, pick) {
      const dates = db
        .prepare<[], string>('SELECT date FROM snapshots ORDER BY date')
        .pluck()
        .all();
      const date = nth(dates, pick);
      db.prepare(`UPDATE snapshots SET data = '{"equityMinor": ' WHERE date = ?`).run(date);
      return { date };
    },
  },
  {
    name: 'balance-off-by-one',
    check: 'CAPITAL',
    description: /difference -?1 minor units/,
    apply(db, pick) {
      const accounts = db
        .prepare<[], string>('SELECT account_id FROM capital_accounts ORDER BY account_id')
        .pluck()
        .all();
      const accountId = nth(accounts, pick);
      const delta = pick % 2 === 0 ? 1 : -1;
      db.prepare(
        'UPDATE capital_accounts SET balance_minor = balance_minor + ? WHERE account_id = ?',
      ).run(delta, accountId);
      return { accountId, delta };
    },
  },
  {
    name: 'invalid-strategy-state',
    check: 'STRATEGIES',
    description: /is not one of/,
    apply(db, pick) {
      const ids = db
        .prepare<[], string>('SELECT strategy_id FROM strategies ORDER BY strategy_id')
        .pluck()
        .all();
      const strategyId = nth(ids, pick);
      db.pragma('ignore_check_constraints = ON');
      db.prepare("UPDATE strategies SET state = 'ZOMBIE' WHERE strategy_id = ?").run(strategyId);
      return { strategyId };
    },
  },
  {
    name: 'invalid-strategy-transition',
    check: 'STRATEGIES',
    description: /is not an allowed move/,
    apply(db, pick) {
      const rows = db
        .prepare<[], { id: string; state: string }>(
          'SELECT strategy_id AS id, state FROM strategies ORDER BY strategy_id',
        )
        .all();
      const { id, state } = nth(rows, pick);
      const to = INVALID_MOVE[state] ?? 'ACTIVE';
      db.prepare(
        "INSERT INTO strategy_transitions (strategy_id, from_state, to_state, reason, at) VALUES (?, ?, ?, 'tampered', '2026-01-01T00:00:00.000Z')",
      ).run(id, state, to);
      db.prepare('UPDATE strategies SET state = ? WHERE strategy_id = ?').run(to, id);
      return { strategyId: id, from: state, to };
    },
  },
  {
    name: 'invalid-mode',
    check: 'SYSTEM_MODE',
    description: /desired mode .* is not one of/,
    apply(db, pick) {
      const mode = ['YOLO', 'aggressive', ''][pick % 3] ?? 'YOLO';
      db.pragma('ignore_check_constraints = ON');
      db.prepare('UPDATE system_state SET desired_mode = ? WHERE id = 1').run(mode);
      return { mode };
    },
  },
  {
    name: 'whole-chain-rewrite',
    check: 'EVENT_LOG',
    description: /head anchor mismatch/,
    apply(db, pick) {
      db.prepare('UPDATE events SET reason = reason || ? WHERE seq >= 1').run(` (forged ${pick})`);
      rehashFrom(db, 1);
      return { fromSeq: 1 };
    },
  },
];

export function corruptionNamed(name: CorruptionName): Corruption {
  const corruption = CORRUPTIONS.find((c) => c.name === name);
  if (corruption === undefined) throw new Error(`no corruption ${name}`);
  return corruption;
}

/** Copies `sourcePath` to `targetPath` and applies the named corruption to the copy. */
export function corruptCopy(
  sourcePath: string,
  targetPath: string,
  name: CorruptionName,
  pick: number,
): Record<string, string | number> {
  copyDatabase(sourcePath, targetPath);
  const anchorPath = headAnchorPathFor(targetPath);
  const anchoredSeq =
    anchorPath !== null && existsSync(anchorPath)
      ? (JSON.parse(readFileSync(anchorPath, 'utf8')) as { seq: number }).seq
      : 1;
  const db = openRaw(targetPath);
  try {
    return corruptionNamed(name).apply(db, pick, anchoredSeq);
  } finally {
    db.close();
  }
}

/** Rewrites the head anchor beside `dbPath` to the chain's current head (the forger's last step). */
export function forgeAnchor(dbPath: string): void {
  const anchorPath = headAnchorPathFor(dbPath);
  if (anchorPath === null) return;
  const db = openRaw(dbPath);
  try {
    const head = db
      .prepare<[], { seq: number; hash: string }>(
        'SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1',
      )
      .get();
    if (head !== undefined) {
      writeFileSync(
        anchorPath,
        `${JSON.stringify({ seq: head.seq, hash: head.hash, at: '2026-01-01T00:00:00.000Z' })}\n`,
      );
    }
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Physical damage

export function pageSizeOf(path: string): number {
  const header = readFileSync(path).subarray(16, 18);
  const size = header.readUInt16BE(0);
  return size === 1 ? 65536 : size;
}

/** Overwrites `length` bytes at `offsetInPage` of page `page` (1-based) with `fill` bytes. */
export function overwritePage(
  path: string,
  page: number,
  offsetInPage: number,
  bytes: Buffer,
): void {
  const pageSize = pageSizeOf(path);
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, (page - 1) * pageSize + (offsetInPage % pageSize));
  } finally {
    closeSync(fd);
  }
}

export function pageCountOf(path: string): number {
  return Math.floor(statSync(path).size / pageSizeOf(path));
}

/** Cuts the file to `bytes` bytes. */
export function truncateFile(path: string, bytes: number): void {
  truncateSync(path, bytes);
}
