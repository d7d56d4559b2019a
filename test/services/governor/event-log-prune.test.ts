/**
 * Goal: `pruneEventLogOffline` (services/governor/event-log-prune.ts) refuses, writing nothing,
 * every prune it must not run (who and why missing, a selection not exactly one, a bad archive
 * path, the head, the SYSTEM_SHUTDOWN behind the latch in force, an owner running), and a
 * prune it runs deletes exactly the events through N, archives the whole log first, appends
 * its attestation and leaves a log that verifies. Boundaries: N = head - 1 is pruned, N = head
 * refused; latch seq - 1 pruned, latch seq refused.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import { ModeJournal } from '../../../persistence/mode-journal.js';
import { isGovernorError } from '../../../services/errors.js';
import {
  type PruneOptions,
  pruneEventLogOffline,
} from '../../../services/governor/event-log-prune.js';
import { type Harness, makeHarness } from '../../support/harness.js';

let dir: string;
let dbPath: string;
let h: Harness | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'governor-prune-'));
  dbPath = join(dir, 'governor.db');
});
afterEach(() => {
  h?.cleanup();
  h = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** A database with `count` engine events (seq 1..count), closed. */
function databaseWith(count: number): void {
  const store = Store.open(dbPath);
  for (let i = 0; i < count; i++) {
    store.events.append({ eventType: 'ORDER_PLACED', reason: `order ${i + 1}`, metadata: { i } });
  }
  store.close();
}

function readBack<T>(path: string, fn: (store: Store) => T): T {
  const store = Store.open(path, { readonly: true });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

function options(overrides: Partial<PruneOptions> = {}): PruneOptions {
  return {
    dbPath,
    throughSeq: 3,
    archivePath: join(dir, 'archive.db'),
    operator: 'alice',
    reason: 'disk space',
    ...overrides,
  };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isGovernorError(error) ? error.code : `not a GovernorError: ${String(error)}`;
  }
  return 'not refused';
}

describe('pruneEventLogOffline: refusals write nothing', () => {
  it.each([
    ['no operator', { operator: '' }, 'GOV_OPERATOR_REQUIRED'],
    ['no reason', { reason: '' }, 'GOV_REASON_REQUIRED'],
    ['both selections', { olderThanMs: 1_000 }, 'GOV_INVALID_ARGUMENT'],
    ['seq 0', { throughSeq: 0 }, 'GOV_INVALID_ARGUMENT'],
    ['a fractional seq', { throughSeq: 1.5 }, 'GOV_INVALID_ARGUMENT'],
    ['an empty archive path', { archivePath: '  ' }, 'GOV_INVALID_ARGUMENT'],
    ['the database as its own archive', { archivePath: 'DB' }, 'GOV_INVALID_ARGUMENT'],
    ['an archive in a missing directory', { archivePath: 'MISSING' }, 'GOV_INVALID_ARGUMENT'],
    ['the head itself', { throughSeq: 5 }, 'GOV_INVALID_OPERATOR_ACTION'],
    ['past the head', { throughSeq: 6 }, 'GOV_INVALID_OPERATOR_ACTION'],
  ] as const)('%s: %s', (_name, given, code) => {
    databaseWith(5);
    const archive = 'archivePath' in given ? given.archivePath : undefined;
    const resolved: Partial<PruneOptions> = {
      ...given,
      ...(archive === 'DB' ? { archivePath: dbPath } : {}),
      ...(archive === 'MISSING' ? { archivePath: join(dir, 'no', 'archive.db') } : {}),
    };
    expect(refusal(() => pruneEventLogOffline(options(resolved)))).toBe(code);
    expect(readBack(dbPath, (s) => s.events.count())).toBe(5);
    expect(existsSync(join(dir, 'archive.db'))).toBe(false);
  });

  it('neither selection is refused', () => {
    databaseWith(5);
    const { throughSeq: _omitted, ...rest } = options();
    expect(refusal(() => pruneEventLogOffline(rest))).toBe('GOV_INVALID_ARGUMENT');
  });

  it('an existing archive file is never overwritten', () => {
    databaseWith(5);
    const archivePath = join(dir, 'archive.db');
    Store.open(archivePath).close();
    expect(refusal(() => pruneEventLogOffline(options({ archivePath })))).toBe(
      'GOV_INVALID_ARGUMENT',
    );
    expect(readBack(dbPath, (s) => s.events.count())).toBe(5);
  });

  it('is refused while a GovernanceSystem owns the file', () => {
    h = makeHarness();
    for (let i = 0; i < 3; i++) {
      h.gov.engine.events.append({ eventType: 'ORDER_PLACED', reason: 'x', metadata: {} });
    }
    const code = refusal(() =>
      pruneEventLogOffline(options({ dbPath: h?.dbPath ?? '', throughSeq: 1 })),
    );
    expect(code).toBe('GOV_DATABASE_OWNED');
  });
});

describe('pruneEventLogOffline: a prune', () => {
  it('through head - 1: deletes exactly those events, archives all of them, attests, verifies', () => {
    databaseWith(5);
    const archivePath = join(dir, 'archive.db');
    const outcome = pruneEventLogOffline(options({ throughSeq: 4, archivePath }));
    if (outcome.kind !== 'pruned') throw new Error(`not pruned: ${JSON.stringify(outcome)}`);
    expect(outcome.prunedEvents).toBe(4);
    expect(outcome.base.seq).toBe(4);
    expect(outcome.attestationSeq).toBe(6);
    expect(outcome.head?.seq).toBe(6);
    expect(outcome.violationsAfter).toEqual([]);
    const left = readBack(dbPath, (s) => [...s.events.iterate(1)]);
    expect(left.map((e) => e.seq)).toEqual([5, 6]);
    expect(left[1]).toMatchObject({ eventType: 'OPERATOR_ACTION' });
    expect(JSON.stringify(left[1]?.metadata)).toContain('alice');
    expect(readBack(archivePath, (s) => s.events.count())).toBe(5);
  });

  it('a second prune through a seq already gone changes nothing', () => {
    databaseWith(5);
    pruneEventLogOffline(options({ throughSeq: 3 }));
    const again = pruneEventLogOffline(
      options({ throughSeq: 2, archivePath: join(dir, 'archive-2.db') }),
    );
    expect(again.kind).toBe('nothing');
    expect(existsSync(join(dir, 'archive-2.db'))).toBe(false);
  });

  it('--older-than with nothing older changes nothing and writes no archive', () => {
    databaseWith(5);
    const { throughSeq: _omitted, ...rest } = options();
    const outcome = pruneEventLogOffline({ ...rest, olderThanMs: 1, nowMs: 0 });
    expect(outcome.kind).toBe('nothing');
    expect(existsSync(join(dir, 'archive.db'))).toBe(false);
    expect(readBack(dbPath, (s) => s.events.count())).toBe(5);
  });

  it('never cuts the SYSTEM_SHUTDOWN behind the latch in force: latch seq refused, latch seq - 1 pruned', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    for (let i = 0; i < 3; i++) {
      h.gov.engine.events.append({ eventType: 'ORDER_PLACED', reason: 'x', metadata: {} });
    }
    h.gov.operatorShutdown({ operator: 'bob', reason: 'halt' });
    h.gov.close();
    const path = h.dbPath;
    const latchSeq = readBack(path, (s) => new ModeJournal(s).latchEventSeq());
    if (latchSeq === null) throw new Error('no latch event');
    const head = readBack(path, (s) => s.events.head()?.seq ?? 0);
    expect(head).toBeGreaterThan(latchSeq);
    const archivePath = join(h.dir, 'archive.db');
    expect(
      refusal(() =>
        pruneEventLogOffline(options({ dbPath: path, throughSeq: latchSeq, archivePath })),
      ),
    ).toBe('GOV_INVALID_OPERATOR_ACTION');
    expect(existsSync(archivePath)).toBe(false);
    const outcome = pruneEventLogOffline(
      options({ dbPath: path, throughSeq: latchSeq - 1, archivePath }),
    );
    expect(outcome.kind).toBe('pruned');
    expect(readBack(path, (s) => new ModeJournal(s).latchEventSeq())).toBe(latchSeq);
  });
});
