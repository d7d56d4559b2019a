/**
 * Read-only scans for the data integrity verifier: a streaming walk of the event log (hash chain,
 * seq continuity, timestamps) over raw rows, duplicate detection done inside SQLite, and small
 * structural scans of snapshots, capital, strategies and system state. Findings are plain data.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { LIFECYCLE_STATES, MODES } from '../machines/types.js';
import type { Connection } from './connection.js';
import { computeEventHash, GENESIS_HASH } from './event-log.js';
import { STRATEGY_INITIAL_STATES, STRATEGY_STATES, STRATEGY_TRANSITIONS } from './strategies.js';
import { checkDate, checkTimestamp } from './validation.js';

export type EventFindingKind =
  | 'SEQ_GAP'
  | 'PREV_HASH_MISMATCH'
  | 'HASH_MISMATCH'
  | 'MALFORMED_ROW'
  | 'TIMESTAMP_MALFORMED'
  | 'TIMESTAMP_BACKWARDS'
  | 'TIMESTAMP_FUTURE';

export interface EventFinding {
  readonly kind: EventFindingKind;
  readonly seq: number;
  readonly detail: string;
}

/** Where a walk stopped: the last row it read (seq, hash, timestamp), whatever it found. */
export interface ScanPosition {
  readonly seq: number;
  readonly hash: string;
  readonly timestamp: string;
}

export interface ChainWalk {
  readonly checked: number;
  readonly findings: readonly EventFinding[];
  /** Findings beyond `findingsMax` that were counted but not kept. */
  readonly findingsDropped: number;
  readonly last: ScanPosition | null;
}

export interface ChainWalkOptions {
  /** The walk starts after this position (null: from seq 1, linking to GENESIS_HASH). */
  readonly after: ScanPosition | null;
  /** Timestamps greater than this ISO text are implausibly far in the future. */
  readonly futureLimitIso: string;
  /** A timestamp may step back this much from its predecessor (a wall clock set back). */
  readonly backwardsToleranceMs: number;
  readonly findingsMax: number;
  /**
   * Called once per page of the walk with the rows checked so far and the rows the walk expects
   * (the head's seq minus the starting seq, at least the rows checked). Optional; it must not
   * throw, and it sees the walk's progress only (a progress bar), never its findings.
   */
  readonly onProgress?: ((checkedEvents: number, totalEvents: number) => void) | undefined;
}

export interface DuplicateEventId {
  readonly eventId: string;
  readonly count: number;
  readonly seqs: string;
}

export type SnapshotFindingKind =
  | 'DUPLICATE_DATE'
  | 'OUT_OF_ORDER'
  | 'INVALID_DATE'
  | 'INVALID_WRITTEN_AT'
  | 'INVALID_DATA';

export interface SnapshotFinding {
  readonly kind: SnapshotFindingKind;
  readonly date: string;
  readonly detail: string;
}

export type CapitalFindingKind = 'ORPHAN_ACCOUNT' | 'INVALID_AMOUNT';

export interface CapitalFinding {
  readonly kind: CapitalFindingKind;
  readonly poolId: string;
  readonly accountId: string | null;
  readonly detail: string;
}

export type StrategyFindingKind =
  | 'INVALID_STATE'
  | 'INVALID_TRANSITION'
  | 'BROKEN_HISTORY'
  | 'STATE_DISAGREES_WITH_HISTORY'
  | 'NO_HISTORY'
  | 'ORPHAN_TRANSITION';

export interface StrategyFinding {
  readonly kind: StrategyFindingKind;
  readonly strategyId: string;
  readonly transitionId: number | null;
  readonly detail: string;
}

export interface StructureFinding {
  /** The damaged table (with its indexes), or `database` for a whole-file check. */
  readonly table: string;
  readonly detail: string;
}

export type SystemStateFindingKind =
  | 'MISSING_ROW'
  | 'INVALID_DESIRED_MODE'
  | 'INVALID_LIFECYCLE_STATE';

export interface SystemStateFinding {
  readonly kind: SystemStateFindingKind;
  readonly detail: string;
}

// toISOString's form: every timestamp governor writes has exactly this shape, so ISO texts of
// this shape compare in time order as strings.
const ISO_MS_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** quick_check lines about constraint values, not about the file's structure. */
const CONSTRAINT_FINDING = /^(CHECK constraint failed|NULL value in|NOT NULL)/;

/** Rows per page of the chain walk: bounds memory (about 300 KB of typical rows). */
const WALK_PAGE_ROWS = 1024;

const MODE_SET: ReadonlySet<string> = new Set(MODES);
const LIFECYCLE_SET: ReadonlySet<string> = new Set(LIFECYCLE_STATES);
const STRATEGY_STATE_SET: ReadonlySet<string> = new Set(STRATEGY_STATES);
const INITIAL_STATE_SET: ReadonlySet<string> = new Set(STRATEGY_INITIAL_STATES);

function allowedMove(from: string, to: string): boolean {
  const allowed = (STRATEGY_TRANSITIONS as Readonly<Record<string, readonly string[]>>)[from];
  return allowed?.includes(to) === true;
}

function isValid(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

/** Collects findings up to a bound, counting the rest. */
class Findings<T> {
  readonly items: T[] = [];
  dropped = 0;
  constructor(private readonly max: number) {}
  add(item: T): void {
    if (this.items.length < this.max) this.items.push(item);
    else this.dropped++;
  }
}

interface WalkState {
  readonly findings: Findings<EventFinding>;
  readonly futureLimitIso: string;
  readonly backwardsToleranceMs: number;
  expectedSeq: number;
  previousHash: string;
  previousTimestamp: string;
  checked: number;
  /** The last well-formed row read (seq 0: none yet beyond the starting position). */
  lastSeq: number;
}

/**
 * One row of the chain walk: seq continuity, hash link, recomputed hash, timestamp shape, order
 * and plausibility. After a finding the walk resynchronises on this row, so independent damage
 * further on is reported separately.
 */
function checkRow(state: WalkState, row: RawEventRow): void {
  const [seq, eventId, timestamp, eventType, reason, metadata, prevHash, hash] = row;
  const findings = state.findings;
  state.checked++;
  if (
    typeof eventId !== 'string' ||
    typeof timestamp !== 'string' ||
    typeof eventType !== 'string' ||
    typeof reason !== 'string' ||
    typeof metadata !== 'string' ||
    typeof prevHash !== 'string' ||
    typeof hash !== 'string'
  ) {
    findings.add({ kind: 'MALFORMED_ROW', seq, detail: 'a column is not text' });
    state.expectedSeq = seq + 1;
    return;
  }
  const expectedSeq = state.expectedSeq;
  if (seq !== expectedSeq) {
    findings.add({
      kind: 'SEQ_GAP',
      seq: expectedSeq,
      detail:
        seq > expectedSeq
          ? `seq ${expectedSeq}${seq - 1 > expectedSeq ? `..${seq - 1}` : ''} missing (next row is ${seq})`
          : `seq ${seq} after ${expectedSeq - 1}`,
    });
  } else if (prevHash !== state.previousHash) {
    findings.add({
      kind: 'PREV_HASH_MISMATCH',
      seq,
      detail: `prev_hash does not link to the hash of seq ${seq - 1}`,
    });
  }
  const recomputed = computeEventHash({
    seq,
    eventId,
    timestamp,
    eventType,
    reason,
    metadataText: metadata,
    prevHash,
  });
  if (recomputed !== hash) {
    findings.add({
      kind: 'HASH_MISMATCH',
      seq,
      detail: 'stored hash differs from the hash of the row',
    });
  }
  if (timestamp.length !== 24 || !ISO_MS_PATTERN.test(timestamp)) {
    findings.add({
      kind: 'TIMESTAMP_MALFORMED',
      seq,
      detail: `timestamp ${timestamp.slice(0, 40)}`,
    });
  } else {
    if (
      timestamp < state.previousTimestamp &&
      Date.parse(state.previousTimestamp) - Date.parse(timestamp) > state.backwardsToleranceMs
    ) {
      findings.add({
        kind: 'TIMESTAMP_BACKWARDS',
        seq,
        detail: `${timestamp} is before ${state.previousTimestamp} (seq ${seq - 1})`,
      });
    }
    if (timestamp > state.futureLimitIso) {
      findings.add({
        kind: 'TIMESTAMP_FUTURE',
        seq,
        detail: `${timestamp} is after ${state.futureLimitIso}`,
      });
    }
    state.previousTimestamp = timestamp;
  }
  state.previousHash = hash;
  state.expectedSeq = seq + 1;
  state.lastSeq = seq;
}

type RawEventRow = [number, unknown, unknown, unknown, unknown, unknown, unknown, unknown];

/** The scans. Obtain them as `store.integrityScan`; every method only reads. */
export class IntegrityScan {
  private readonly connection: Connection;
  private readonly db: BetterSqlite3.Database;
  private readonly walkRows: BetterSqlite3.Statement<[number, number], RawEventRow>;
  private readonly hashAtSeq: BetterSqlite3.Statement<[number], string>;
  private readonly headRow: BetterSqlite3.Statement<[], { seq: number; hash: string }>;
  private readonly positionAtSeq: BetterSqlite3.Statement<
    [number],
    { hash: unknown; timestamp: unknown }
  >;

  constructor(connection: Connection) {
    this.connection = connection;
    this.db = connection.db;
    this.walkRows = this.db
      .prepare<[number, number], RawEventRow>(
        'SELECT seq, event_id, timestamp, event_type, reason, metadata, prev_hash, hash FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
      )
      .raw(true);
    this.hashAtSeq = this.db
      .prepare<[number], string>('SELECT hash FROM events WHERE seq = ?')
      .pluck();
    this.headRow = this.db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1');
    this.positionAtSeq = this.db.prepare('SELECT hash, timestamp FROM events WHERE seq = ?');
  }

  /** Runs `fn` in one read transaction, so every scan inside sees the same snapshot. */
  inReadSnapshot<T>(fn: () => T): T {
    return this.connection.read('integrity.snapshot', () => this.db.transaction(fn)());
  }

  /**
   * Walks the events after `options.after` in seq order, streaming raw rows: seq continuity,
   * hash links and recomputed hashes, timestamp shape, order and plausibility. After a finding
   * the walk resynchronises on the row it read, so independent damage is reported separately.
   */
  walkChain(options: ChainWalkOptions): ChainWalk {
    return this.connection.read('integrity.walkChain', () =>
      this.db.transaction(() => this.walk(options))(),
    );
  }

  /**
   * Reads rows in pages of WALK_PAGE_ROWS with `.all()` (one native call per page, cheaper than
   * one per row); the caller holds a read transaction, so the pages are one consistent snapshot.
   */
  private walk(options: ChainWalkOptions): ChainWalk {
    const state: WalkState = {
      findings: new Findings<EventFinding>(options.findingsMax),
      futureLimitIso: options.futureLimitIso,
      backwardsToleranceMs: options.backwardsToleranceMs,
      expectedSeq: (options.after?.seq ?? 0) + 1,
      previousHash: options.after?.hash ?? GENESIS_HASH,
      previousTimestamp: options.after?.timestamp ?? '',
      checked: 0,
      lastSeq: 0,
    };
    let after = options.after?.seq ?? 0;
    const onProgress = options.onProgress;
    // Read once, inside the caller's snapshot: the head cannot move during the walk.
    const expected =
      onProgress === undefined ? 0 : Math.max(0, (this.headRow.get()?.seq ?? 0) - after);
    for (;;) {
      const rows = this.walkRows.all(after, WALK_PAGE_ROWS);
      for (let index = 0; index < rows.length; index++) checkRow(state, rows[index] as RawEventRow);
      onProgress?.(state.checked, Math.max(expected, state.checked));
      const last = rows[rows.length - 1];
      if (rows.length < WALK_PAGE_ROWS || last === undefined) break;
      after = last[0];
    }
    return {
      checked: state.checked,
      findings: state.findings.items,
      findingsDropped: state.findings.dropped,
      last:
        state.lastSeq === 0
          ? options.after
          : { seq: state.lastSeq, hash: state.previousHash, timestamp: state.previousTimestamp },
    };
  }

  /** The stored hash at `seq`, or null when there is no such row. */
  hashAt(seq: number): string | null {
    return this.connection.read('integrity.hashAt', () => this.hashAtSeq.get(seq) ?? null);
  }

  /** The seq, hash and timestamp of the event at `seq`, or null when there is no such row. */
  positionAt(seq: number): ScanPosition | null {
    return this.connection.read('integrity.positionAt', () => {
      const row = this.positionAtSeq.get(seq);
      return row !== undefined && typeof row.hash === 'string' && typeof row.timestamp === 'string'
        ? { seq, hash: row.hash, timestamp: row.timestamp }
        : null;
    });
  }

  /** The last event's seq and hash, or null for an empty log. */
  head(): { seq: number; hash: string } | null {
    return this.connection.read('integrity.head', () => this.headRow.get() ?? null);
  }

  /** The seq of the first event whose hash is `hash`, or null (scans the table). */
  seqOfHash(hash: string): number | null {
    return this.connection.read(
      'integrity.seqOfHash',
      () =>
        this.db
          .prepare<[string], number>('SELECT seq FROM events WHERE hash = ? ORDER BY seq LIMIT 1')
          .pluck()
          .get(hash) ?? null,
    );
  }

  /** True when `events.event_id` is covered by a UNIQUE index, as the schema declares. */
  eventIdIsUnique(): boolean {
    return this.connection.read('integrity.eventIdIsUnique', () => {
      const indexes = this.db.pragma('index_list(events)') as Array<{
        name: string;
        unique: number;
        partial: number;
      }>;
      return indexes.some((index) => {
        if (index.unique !== 1 || index.partial !== 0) return false;
        const columns = this.db.pragma(`index_info(${JSON.stringify(index.name)})`) as Array<{
          name: string | null;
        }>;
        return columns.length === 1 && columns[0]?.name === 'event_id';
      });
    });
  }

  /**
   * Event ids held by more than one row, found inside SQLite: a GROUP BY over the unique index
   * (or, if it was removed, SQLite's external sorter, which spills to temporary files), so no id
   * list is held in JavaScript. With `afterSeq`, only ids of rows after it (incremental): a seq
   * range scan of the new rows with one index lookup each.
   */
  duplicateEventIds(afterSeq: number | null, limit: number): DuplicateEventId[] {
    const sql =
      afterSeq === null
        ? `SELECT event_id AS eventId, count(*) AS count, group_concat(seq) AS seqs
             FROM events GROUP BY event_id HAVING count(*) > 1 LIMIT ?`
        : `SELECT e.event_id AS eventId,
                  (SELECT count(*) FROM events f WHERE f.event_id = e.event_id) AS count,
                  (SELECT group_concat(f.seq) FROM events f WHERE f.event_id = e.event_id) AS seqs
             FROM events e
            WHERE e.seq > ? AND EXISTS
                  (SELECT 1 FROM events f WHERE f.event_id = e.event_id AND f.seq <> e.seq)
            LIMIT ?`;
    return this.connection.read('integrity.duplicateEventIds', () => {
      const statement = this.db.prepare<number[], DuplicateEventId>(sql);
      return afterSeq === null ? statement.all(limit) : statement.all(afterSeq, limit);
    });
  }

  /**
   * Snapshots: duplicate dates over the date column of every row; then, for the rows after
   * `afterRowid` in insertion (rowid) order, order (each date later than every date inserted
   * before it: the store writes in date order) and structure (date, written_at, JSON validity
   * checked by SQLite's json_valid, nothing parsed here). Order is judged by insertion, never by
   * `written_at`, which is wall-clock time and may step back when the clock is set back.
   */
  snapshots(
    afterRowid: number,
    findingsMax: number,
  ): { findings: SnapshotFinding[]; findingsDropped: number; lastRowid: number } {
    return this.connection.read('integrity.snapshots', () => {
      const findings = new Findings<SnapshotFinding>(findingsMax);
      let previousDate: string | null = null;
      const ordered = this.db
        .prepare<[], [unknown]>('SELECT date FROM snapshots ORDER BY date')
        .raw(true);
      for (const [dateValue] of ordered.iterate()) {
        const date = String(dateValue);
        if (previousDate === date) {
          findings.add({
            kind: 'DUPLICATE_DATE',
            date,
            detail: `more than one snapshot for ${date}`,
          });
        }
        previousDate = date;
      }
      let latestDate = this.db
        .prepare<[number], [unknown]>('SELECT max(date) FROM snapshots WHERE rowid <= ?')
        .raw(true)
        .get(afterRowid)?.[0];
      let lastRowid = afterRowid;
      const structure = this.db
        .prepare<[number], [number, unknown, unknown, number, string]>(
          'SELECT rowid, date, written_at, json_valid(data), typeof(data) FROM snapshots WHERE rowid > ? ORDER BY rowid',
        )
        .raw(true);
      for (const [rowid, date, writtenAt, jsonValid, dataType] of structure.iterate(afterRowid)) {
        lastRowid = rowid;
        const label = String(date);
        if (typeof latestDate === 'string' && label < latestDate) {
          findings.add({
            kind: 'OUT_OF_ORDER',
            date: label,
            detail: `snapshot ${label} was inserted after the snapshot of the later date ${latestDate}`,
          });
        }
        if (typeof latestDate !== 'string' || label > latestDate) latestDate = label;
        if (!isValid(() => checkDate('date', date))) {
          findings.add({
            kind: 'INVALID_DATE',
            date: label,
            detail: `date ${label.slice(0, 40)} is not YYYY-MM-DD`,
          });
        }
        if (!isValid(() => checkTimestamp('written_at', writtenAt))) {
          findings.add({
            kind: 'INVALID_WRITTEN_AT',
            date: label,
            detail: 'written_at is not an ISO-8601 UTC timestamp',
          });
        }
        if (dataType !== 'text' || jsonValid !== 1) {
          findings.add({
            kind: 'INVALID_DATA',
            date: label,
            detail: `data is not valid JSON (${dataType})`,
          });
        }
      }
      return { findings: findings.items, findingsDropped: findings.dropped, lastRowid };
    });
  }

  /** Accounts whose pool does not exist; amounts that are not non-negative integers. */
  capitalStructure(findingsMax: number): CapitalFinding[] {
    return this.connection.read('integrity.capital', () => {
      const findings = new Findings<CapitalFinding>(findingsMax);
      const orphans = this.db
        .prepare<[number], { poolId: string; accountId: string }>(
          `SELECT a.pool_id AS poolId, a.account_id AS accountId FROM capital_accounts a
            LEFT JOIN capital_pools p ON p.pool_id = a.pool_id WHERE p.pool_id IS NULL LIMIT ?`,
        )
        .all(findingsMax);
      for (const o of orphans) {
        findings.add({
          kind: 'ORPHAN_ACCOUNT',
          poolId: o.poolId,
          accountId: o.accountId,
          detail: `account ${o.accountId} belongs to missing pool ${o.poolId}`,
        });
      }
      const amounts = this.db
        .prepare<[number, number], { poolId: string; accountId: string | null; kind: string }>(
          `SELECT * FROM (SELECT pool_id AS poolId, NULL AS accountId, typeof(total_minor) AS kind
             FROM capital_pools WHERE typeof(total_minor) <> 'integer' OR total_minor < 0 LIMIT ?)
           UNION ALL
           SELECT * FROM (SELECT pool_id, account_id, typeof(balance_minor) FROM capital_accounts
            WHERE typeof(balance_minor) <> 'integer' OR balance_minor < 0 LIMIT ?)`,
        )
        .all(findingsMax, findingsMax);
      for (const a of amounts) {
        findings.add({
          kind: 'INVALID_AMOUNT',
          poolId: a.poolId,
          accountId: a.accountId,
          detail: `${a.accountId === null ? `pool ${a.poolId} total` : `account ${a.accountId} balance`} is not a non-negative integer of minor units (${a.kind})`,
        });
      }
      return findings.items;
    });
  }

  /**
   * Strategies: every state in STRATEGY_STATES; every history starts with a registration into
   * an initial state, moves only along STRATEGY_TRANSITIONS, links from-state to the previous
   * to-state, and ends in the strategy's current state. Streams the history in (strategy, id) order.
   */
  strategies(findingsMax: number): StrategyFinding[] {
    return this.connection.read('integrity.strategies', () => {
      const findings = new Findings<StrategyFinding>(findingsMax);
      const badStates = this.db
        .prepare<[], [string, unknown]>(
          'SELECT strategy_id, state FROM strategies ORDER BY strategy_id',
        )
        .raw(true);
      for (const [strategyId, state] of badStates.iterate()) {
        if (typeof state !== 'string' || !STRATEGY_STATE_SET.has(state)) {
          findings.add({
            kind: 'INVALID_STATE',
            strategyId,
            transitionId: null,
            detail: `state ${String(state).slice(0, 40)} is not one of ${STRATEGY_STATES.join(', ')}`,
          });
        }
      }
      const missing = this.db
        .prepare<[], string>(
          `SELECT s.strategy_id FROM strategies s WHERE NOT EXISTS
             (SELECT 1 FROM strategy_transitions t WHERE t.strategy_id = s.strategy_id)`,
        )
        .pluck();
      for (const strategyId of missing.iterate()) {
        findings.add({
          kind: 'NO_HISTORY',
          strategyId,
          transitionId: null,
          detail: 'no registration in strategy_transitions',
        });
      }
      this.walkHistories(findings);
      return findings.items;
    });
  }

  private walkHistories(findings: Findings<StrategyFinding>): void {
    const history = this.db
      .prepare<[], [number, string, unknown, unknown, unknown]>(
        `SELECT t.id, t.strategy_id, t.from_state, t.to_state, s.state
           FROM strategy_transitions t LEFT JOIN strategies s ON s.strategy_id = t.strategy_id
          ORDER BY t.strategy_id, t.id`,
      )
      .raw(true);
    let current: { strategyId: string; last: unknown; state: unknown; id: number } | null = null;
    const finish = (): void => {
      if (current !== null && current.state !== null && current.last !== current.state) {
        findings.add({
          kind: 'STATE_DISAGREES_WITH_HISTORY',
          strategyId: current.strategyId,
          transitionId: current.id,
          detail: `state ${String(current.state)} but the last recorded move ends in ${String(current.last)}`,
        });
      }
    };
    for (const [id, strategyId, from, to, state] of history.iterate()) {
      if (current === null || current.strategyId !== strategyId) {
        finish();
        current = { strategyId, last: null, state, id };
        if (state === null) {
          findings.add({
            kind: 'ORPHAN_TRANSITION',
            strategyId,
            transitionId: id,
            detail: `transition ${id} names a strategy that does not exist`,
          });
        }
        if (from !== null || typeof to !== 'string' || !INITIAL_STATE_SET.has(to)) {
          findings.add({
            kind: 'BROKEN_HISTORY',
            strategyId,
            transitionId: id,
            detail: `history starts with ${String(from)} -> ${String(to)}, not a registration into ${STRATEGY_INITIAL_STATES.join(', ')}`,
          });
        }
      } else if (from !== current.last) {
        findings.add({
          kind: 'BROKEN_HISTORY',
          strategyId,
          transitionId: id,
          detail: `transition ${id} starts from ${String(from)} but the previous move ended in ${String(current.last)}`,
        });
      } else if (typeof from !== 'string' || typeof to !== 'string' || !allowedMove(from, to)) {
        findings.add({
          kind: 'INVALID_TRANSITION',
          strategyId,
          transitionId: id,
          detail: `${String(from)} -> ${String(to)} is not an allowed move`,
        });
      }
      current.last = to;
      current.id = id;
    }
    finish();
  }

  /**
   * SQLite's own structural check (`PRAGMA quick_check`: b-tree pages, cells, free list, index
   * shape) of every table and its indexes, or of every table but `events` (whose pages the chain
   * walk reads anyway; checking its large index costs as much as a fifth of a full startup).
   * Returns one finding per damaged table; a check that fails outright is a finding too.
   */
  structure(scope: 'all' | 'except-events', findingsMax: number): StructureFinding[] {
    return this.connection.read('integrity.structure', () => {
      const tables =
        scope === 'all'
          ? [null]
          : this.db
              .prepare<[], string>(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'events' ORDER BY name",
              )
              .pluck()
              .all();
      const findings: StructureFinding[] = [];
      for (const table of tables) {
        if (findings.length >= findingsMax) break;
        const pragma =
          table === null ? `quick_check(${findingsMax})` : `quick_check(${JSON.stringify(table)})`;
        try {
          const rows = this.db.pragma(pragma, { simple: false }) as Array<{ quick_check: string }>;
          // Constraint findings (CHECK, NOT NULL) are left to the logical checks: not damage.
          const problems = rows
            .map((row) => row.quick_check)
            .filter((text) => text !== 'ok' && !CONSTRAINT_FINDING.test(text));
          if (problems.length > 0) {
            findings.push({ table: table ?? 'database', detail: problems.slice(0, 3).join('; ') });
          }
        } catch (error) {
          findings.push({ table: table ?? 'database', detail: (error as Error).message });
        }
      }
      return findings;
    });
  }

  /** The system_state row: present, a known desired mode and lifecycle state. */
  systemState(): SystemStateFinding[] {
    return this.connection.read('integrity.systemState', () => {
      const row = this.db
        .prepare<[], { desired: unknown; lifecycle: unknown }>(
          'SELECT desired_mode AS desired, lifecycle_state AS lifecycle FROM system_state WHERE id = 1',
        )
        .get();
      if (row === undefined) return [{ kind: 'MISSING_ROW', detail: 'system_state has no row' }];
      const findings: SystemStateFinding[] = [];
      if (typeof row.desired !== 'string' || !MODE_SET.has(row.desired)) {
        findings.push({
          kind: 'INVALID_DESIRED_MODE',
          detail: `desired mode ${String(row.desired).slice(0, 40)} is not one of ${MODES.join(', ')}`,
        });
      }
      if (
        row.lifecycle !== null &&
        (typeof row.lifecycle !== 'string' || !LIFECYCLE_SET.has(row.lifecycle))
      ) {
        findings.push({
          kind: 'INVALID_LIFECYCLE_STATE',
          detail: `lifecycle state ${String(row.lifecycle).slice(0, 40)} is not one of ${LIFECYCLE_STATES.join(', ')}`,
        });
      }
      return findings;
    });
  }
}
