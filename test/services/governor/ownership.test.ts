/**
 * Goal: the ownership module (services/governor/ownership) on its own, without a
 * GovernanceSystem around it: one lock per database file, refused with the owner named; the
 * owner found without taking anything; a request sent to an owner that does not confirm is
 * reported as such (a conservative one stays recorded, a resume is withdrawn), and with no owner
 * this process carries it out; the reader never writes; SQLite's own failures come back as
 * GovernorErrors of the catalogue.
 */
import { linkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ModeJournal } from '../../../persistence/mode-journal.js';
import { Store } from '../../../persistence/store.js';
import { DEFAULT_THRESHOLDS } from '../../../services/config.js';
import { isGovernorError } from '../../../services/errors.js';
import {
  acquireOwnerLock,
  claimOwnerRow,
  type OwnerLock,
  openDatabaseReader,
  ownerAlive,
  ownerOnRecord,
  ownerStillHolds,
  readOwnerQuietly,
  refuseExtraNames,
  sendOwnerRequest,
  type TemporaryOwnerConfig,
} from '../../../services/governor/ownership/index.js';
import { createLogger } from '../../../services/logger.js';
import { expectGovernorError, tempDirectory } from '../../persistence/helpers.js';

const NOW = '2025-12-17T09:00:00.000Z';
const logger = createLogger({ level: 'silent' });
const locks: OwnerLock[] = [];
afterEach(() => {
  for (const lock of locks.splice(0)) lock.release();
});

/** A governor database that exists, nobody owning it. */
function database(): string {
  const dbPath = join(tempDirectory(), 'governor.db');
  Store.open(dbPath).close();
  return dbPath;
}

/** Takes the lock of `dbPath` and records this process as its owner, as a start does. */
function own(dbPath: string): OwnerLock {
  const lock = acquireOwnerLock(dbPath, NOW);
  if (lock === null) throw new Error('no lock for a file database');
  locks.push(lock);
  const store = Store.open(dbPath);
  try {
    claimOwnerRow(new ModeJournal(store), lock, dbPath, logger);
  } finally {
    store.close();
  }
  return lock;
}

function target(dbPath: string): TemporaryOwnerConfig {
  return {
    dbPath,
    thresholds: DEFAULT_THRESHOLDS,
    desiredMode: 'AGGRESSIVE',
    createAlertSinks: async () => [],
  };
}

const REQUEST = { operator: 'bob', reason: 'ownership drill' };

describe('taking ownership', () => {
  it('an in-memory database has no lock to take', () => {
    expect(acquireOwnerLock(':memory:', NOW)).toBeNull();
  });

  it('one lock per file: a second taker is refused with GOV_DATABASE_OWNED naming the owner, and the file is free once released', () => {
    const dbPath = database();
    const lock = own(dbPath);
    let refused: unknown;
    try {
      acquireOwnerLock(dbPath, NOW);
    } catch (error) {
      refused = error;
    }
    expect(isGovernorError(refused, 'GOV_DATABASE_OWNED')).toBe(true);
    expect((refused as Error).message).toContain(`owned by pid ${process.pid} on `);
    expect((refused as { details: Record<string, unknown> }).details).toMatchObject({
      path: dbPath,
      ownerPid: process.pid,
      ownerSince: NOW,
    });
    lock.release();
    const again = acquireOwnerLock(dbPath, NOW);
    expect(again).not.toBeNull();
    if (again !== null) locks.push(again);
  });

  it('a file with a second name (a hard link) is refused before any lock file is made', () => {
    const dbPath = database();
    linkSync(dbPath, `${dbPath}-second-name`);
    expectGovernorError(() => refuseExtraNames(dbPath), 'GOV_INVALID_ARGUMENT');
    expectGovernorError(() => acquireOwnerLock(dbPath, NOW), 'GOV_INVALID_ARGUMENT');
  });

  it('a lock file SQLite cannot open is GOV_STORAGE_FAILURE, not a bare SQLite error', () => {
    const dbPath = database();
    // The lock file's name taken by a directory: SQLite cannot open it.
    mkdirSync(`${dbPath}.owner`);
    expectGovernorError(() => acquireOwnerLock(dbPath, NOW), 'GOV_STORAGE_FAILURE');
  });
});

describe('finding the owner', () => {
  it('nobody: no lock held and no owner on record', () => {
    const dbPath = database();
    expect(ownerAlive(dbPath)).toBe(false);
    expect(readOwnerQuietly(dbPath)).toBeNull();
    expect(readOwnerQuietly(join(tempDirectory(), 'missing.db'))).toBeNull();
  });

  it('an owner: its lock is held and its row names this process', () => {
    const dbPath = database();
    const lock = own(dbPath);
    expect(ownerAlive(dbPath)).toBe(true);
    expect(readOwnerQuietly(dbPath)).toMatchObject({ pid: process.pid, since: NOW });
    const store = openDatabaseReader(dbPath);
    try {
      expect(ownerOnRecord(store)).toEqual(lock.info);
    } finally {
      store.close();
    }
    lock.release();
    expect(ownerAlive(dbPath)).toBe(false);
  });

  it('an owner on record under another lock that is still held keeps the file', () => {
    const first = database();
    const second = database();
    const held = own(first);
    const taken = own(second);
    // The row of `second` as if the owner of `first` had written it (a hard link, a bind mount).
    expect(ownerStillHolds(held.info, taken)).toBe(true);
    held.release();
    expect(ownerStillHolds(held.info, taken)).toBe(false);
    expect(ownerStillHolds(taken.info, taken)).toBe(false);
  });
});

describe('the read door', () => {
  it('opens the database read-only: a write through it is refused', () => {
    const dbPath = database();
    const store = openDatabaseReader(dbPath);
    try {
      expectGovernorError(
        () =>
          store.operatorRequests.record(
            { command: 'shutdown', ...REQUEST, requestedBy: 'test' },
            Date.now(),
          ),
        'GOV_STORAGE_FAILURE',
      );
    } finally {
      store.close();
    }
  });
});

describe('sending a request to the owner', () => {
  it('an owner that does not confirm: a shutdown is reported unconfirmed and stays recorded for it', async () => {
    const dbPath = database();
    own(dbPath);
    const outcome = await sendOwnerRequest(target(dbPath), { command: 'shutdown', ...REQUEST }, 50);
    expect(outcome).toMatchObject({ kind: 'unconfirmed', withdrawn: false });
    if (outcome.kind !== 'unconfirmed') return;
    expect(outcome.owner?.pid).toBe(process.pid);
    expect(outcome.request.status).toBe('pending');
  });

  it('an owner that does not confirm: a resume is withdrawn rather than carried out by surprise', async () => {
    const dbPath = database();
    own(dbPath);
    const outcome = await sendOwnerRequest(target(dbPath), { command: 'resume', ...REQUEST }, 50);
    expect(outcome).toMatchObject({ kind: 'unconfirmed', withdrawn: true });
    expect(outcome.request.status).toBe('failed');
  });

  it('no owner: this process carries the request out as a temporary owner and frees the file', async () => {
    const dbPath = database();
    const outcome = await sendOwnerRequest(target(dbPath), { command: 'shutdown', ...REQUEST });
    expect(outcome).toMatchObject({ kind: 'no-owner', status: 'done' });
    expect(ownerAlive(dbPath)).toBe(false);
    const store = openDatabaseReader(dbPath);
    try {
      expect(store.systemState.get().latch).toMatchObject({ trigger: 'OPERATOR_KILL' });
    } finally {
      store.close();
    }
  });
});
