/**
 * Fault injection for tests and the simulator only: a `FaultInjector` that a Connection consults
 * before every write, failing it the way SQLite would (a `SqliteError` with the real code), and
 * helpers that produce the same faults with real SQLite (page limit, query_only, a second lock).
 */
import Database from 'better-sqlite3';

/** The storage faults governor must survive, named as an operator would see them. */
export const FAULT_MODES = ['SQLITE_IOERR', 'SQLITE_FULL', 'READONLY', 'LOCKED'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

const SQLITE_CODE: Readonly<Record<FaultMode, string>> = {
  SQLITE_IOERR: 'SQLITE_IOERR',
  SQLITE_FULL: 'SQLITE_FULL',
  READONLY: 'SQLITE_READONLY',
  LOCKED: 'SQLITE_BUSY',
};

const SQLITE_MESSAGE: Readonly<Record<FaultMode, string>> = {
  SQLITE_IOERR: 'disk I/O error',
  SQLITE_FULL: 'database or disk is full',
  READONLY: 'attempt to write a readonly database',
  LOCKED: 'database is locked',
};

/** Bound on `failNextWrites`: a count beyond it is a test bug, not a fault. */
export const FAIL_NEXT_WRITES_MAX = 1_000_000;

export interface FaultModeOptions {
  /** Only writes whose operation name (e.g. `snapshots.write`) is listed fail. Default: all. */
  readonly operations?: readonly string[];
}

/**
 * Decides, before each write, whether it fails. `failNextWrites(n)` fails the next n write calls
 * (nested ones count); `setMode(mode)` fails every write until `setMode(null)`. Deterministic:
 * no randomness and no time, so a seeded simulation replays exactly.
 */
export class FaultInjector {
  private mode: FaultMode | null = null;
  private operations: ReadonlySet<string> | null = null;
  private nextCount = 0;
  private nextMode: FaultMode = 'SQLITE_IOERR';
  private injected = 0;

  /** Fails the next `count` writes (whatever their operation) with `mode`. */
  failNextWrites(count: number, mode: FaultMode = 'SQLITE_IOERR'): void {
    if (!Number.isSafeInteger(count) || count < 0 || count > FAIL_NEXT_WRITES_MAX) {
      throw new TypeError(`Expected count to be an integer from 0 to ${FAIL_NEXT_WRITES_MAX}`);
    }
    assertMode(mode);
    this.nextCount = count;
    this.nextMode = mode;
  }

  /** Fails every write (or the listed operations) with `mode` until called with null. */
  setMode(mode: FaultMode | null, options: FaultModeOptions = {}): void {
    if (mode !== null) assertMode(mode);
    this.mode = mode;
    this.operations = options.operations === undefined ? null : new Set(options.operations);
  }

  /** Clears every pending and standing fault. */
  clear(): void {
    this.mode = null;
    this.operations = null;
    this.nextCount = 0;
  }

  getMode(): FaultMode | null {
    return this.mode;
  }

  /** How many writes this injector has failed so far. */
  get injectedCount(): number {
    return this.injected;
  }

  /** Called by the Connection before a write: throws a `SqliteError` when the write must fail. */
  beforeWrite(operation: string): void {
    if (this.nextCount > 0) {
      this.nextCount--;
      this.fail(this.nextMode, operation);
    }
    if (this.mode !== null && (this.operations === null || this.operations.has(operation))) {
      this.fail(this.mode, operation);
    }
  }

  private fail(mode: FaultMode, operation: string): never {
    this.injected++;
    throw new Database.SqliteError(
      `${SQLITE_MESSAGE[mode]} (injected at ${operation})`,
      SQLITE_CODE[mode],
    );
  }
}

function assertMode(mode: string): void {
  if (!(FAULT_MODES as readonly string[]).includes(mode)) {
    throw new TypeError(`Expected a fault mode (${FAULT_MODES.join(', ')}), got ${String(mode)}`);
  }
}

/**
 * Real-SQLite faults on a connection's handle (tests only). Each returns its undo.
 * - SQLITE_FULL: `PRAGMA max_page_count` at the current size, after filling the free space, so
 *   the next write that needs a page fails as a full disk would;
 * - READONLY: `PRAGMA query_only`;
 * - LOCKED: a second connection on the same file holding `BEGIN EXCLUSIVE` (writers wait out
 *   their busy timeout, then fail with SQLITE_BUSY).
 */
export function applyRealFault(db: Database.Database, mode: FaultMode): () => void {
  switch (mode) {
    case 'SQLITE_FULL': {
      const pageCount = db.pragma('page_count', { simple: true });
      const max = db.pragma('max_page_count', { simple: true });
      db.pragma(`max_page_count = ${Number(pageCount)}`);
      return () => db.pragma(`max_page_count = ${Number(max)}`);
    }
    case 'READONLY':
      db.pragma('query_only = ON');
      return () => db.pragma('query_only = OFF');
    case 'LOCKED': {
      const holder = new Database(db.name, { timeout: 0 });
      holder.exec('BEGIN EXCLUSIVE');
      return () => {
        holder.exec('ROLLBACK');
        holder.close();
      };
    }
    case 'SQLITE_IOERR':
      throw new TypeError('SQLITE_IOERR has no cheap real-SQLite means; use a FaultInjector');
  }
}

/**
 * Changes an account's balance behind governor's back, through a connection of its own (as a
 * hand edit or a buggy second writer would): capital drift, for demos and tests. No event, no
 * audit row, and the pool total is left as it was: the integrity check must find it.
 */
export function tamperBalance(dbPath: string, accountId: string, deltaMinor: bigint): void {
  const db = new Database(dbPath, { timeout: 1_000 });
  try {
    db.prepare(
      'UPDATE capital_accounts SET balance_minor = balance_minor + ? WHERE account_id = ?',
    ).run(deltaMinor, accountId);
  } finally {
    db.close();
  }
}
