/**
 * Goal: a legitimately pruned event log (`governor events prune`: archive, then the events
 * through seq N deleted, the chain base recorded and attested by an OPERATOR_ACTION PRUNE event,
 * in one transaction) passes every verifier: the startup verification, `verifyChain`, the
 * worker split, the background scrub and `governor verify`; and the next start trades. Only a
 * legitimate one: a prefix deleted by hand with a base row written by hand, a base whose hash
 * differs, rows missing after the base, or the attesting event removed, are each found by the
 * start, the scrub and `governor verify`. A refused prune writes nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readChainBase } from '../../../persistence/event-log-base.js';
import { Store } from '../../../persistence/index.js';
import { BASE_VIOLATION_KINDS } from '../../../persistence/integrity/checks/chain-base.js';
import {
  DataIntegrityVerifier,
  IntegrityScrubber,
  type IntegrityViolation,
} from '../../../persistence/integrity/index.js';
import { ModeJournal } from '../../../persistence/mode-journal.js';
import { SimulatedClock } from '../../../services/clock.js';
import { isGovernorError } from '../../../services/errors.js';
import { pruneEventLogOffline } from '../../../services/governor/event-log-prune.js';
import { verifyDatabase } from '../../../services/health/verify-database.js';
import { copyDatabase, openRaw } from '../../support/corrupt.js';
import { buildFixture, type Fixture, type Reopened, reopen } from './fixture.js';

/**
 * Reopened at today's wall time, the fixture's inputs are months old (a restart counts its
 * downtime): the engine reports market data and writes its snapshot before the checks.
 */
function reportFreshInputs({ gov }: Reopened): Reopened['gov'] {
  gov.healthMonitor.updateMarketDataTimestamp();
  gov.engine.snapshots.write({ date: '2026-01-01', data: {} });
  return gov;
}

const DAY_MS = 24 * 3_600_000;
let fixture: Fixture;
let copies = 0;
const open: Array<{ close(): void }> = [];

beforeAll(async () => {
  fixture = await buildFixture();
});
afterAll(() => fixture?.cleanup());
afterEach(() => {
  for (const item of open.splice(0)) item.close();
});

function copy(): string {
  copies++;
  const path = join(fixture.dir, `pruned-${copies}.db`);
  copyDatabase(fixture.dbPath, path);
  return path;
}

function prune(path: string, throughSeq: number, archive = `${path}.archive-${throughSeq}.db`) {
  return pruneEventLogOffline({
    dbPath: path,
    throughSeq,
    archivePath: archive,
    operator: 'olga',
    reason: 'INC-7: keep 90 days',
  });
}

function tamper(path: string, ...statements: string[]): void {
  const db = openRaw(path);
  try {
    for (const sql of statements) db.prepare(sql).run();
  } finally {
    db.close();
  }
}

function rows(path: string): { events: unknown[]; base: unknown[] } {
  const db = openRaw(path);
  try {
    return {
      events: db.prepare('SELECT * FROM events ORDER BY seq').all(),
      base: db.prepare('SELECT * FROM event_log_base').all(),
    };
  } finally {
    db.close();
  }
}

/** The startup verification's findings (read-only, no anchor written). */
function atStart(path: string): IntegrityViolation[] {
  const store = Store.open(path, { readonly: true });
  try {
    const clock = new SimulatedClock({ wallStartMs: Date.now() });
    return new DataIntegrityVerifier(store, { clock, writeAnchor: false }).verify({ full: true });
  } finally {
    store.close();
  }
}

/** The findings of one full scrub pass over `path`, after a clean verification. */
function byScrub(path: string, damage: () => void): IntegrityViolation[] {
  const clock = new SimulatedClock({ wallStartMs: Date.now() });
  const store = Store.open(path, { clock });
  open.push(store);
  const verifier = new DataIntegrityVerifier(store, { clock, writeAnchor: false });
  expect(verifier.verify({ full: true })).toEqual([]);
  const reported: IntegrityViolation[] = [];
  const scrubber = new IntegrityScrubber({
    verifier,
    clock,
    passMs: DAY_MS,
    sliceRowsMax: 64,
    onViolations: (found) => reported.push(...found),
  });
  open.push({ close: () => scrubber.stop() });
  damage();
  scrubber.start();
  clock.advance(DAY_MS);
  return reported;
}

const kinds = (found: readonly IntegrityViolation[]): unknown[] =>
  found.map((v) => v.location.kind ?? v.description);

describe('a legitimately pruned event log', () => {
  it('verifies at start, in verifyChain, in slices, in the scrub and in governor verify; the archive verifies alone', async () => {
    const path = copy();
    const headBefore = rows(path).events.length;
    const outcome = prune(path, 100);
    expect(outcome.kind).toBe('pruned');
    if (outcome.kind !== 'pruned') return;
    expect(outcome.prunedEvents).toBe(100);
    expect(outcome.violationsAfter).toEqual([]);
    expect(outcome.attestationSeq).toBe(headBefore + 1);
    expect(outcome.head?.seq).toBe(headBefore + 1);

    expect(atStart(path)).toEqual([]);
    expect(verifyDatabase({ dbPath: path }).ok).toBe(true);
    const archive = verifyDatabase({ dbPath: outcome.archivePath });
    expect(archive.ok).toBe(true);
    expect(archive.head?.seq).toBe(headBefore);

    const store = Store.open(path, { readonly: true });
    open.push(store);
    expect(store.integrityScan.verifyChain()).toMatchObject({ ok: true, checked: headBefore - 99 });
    expect(readChainBase(store)).toMatchObject({ seq: 100, operator: 'olga' });
    expect(store.events.get(100)).toBeNull();
    // The walk in worker threads: workers.test.ts (the e2e project, which spawns them).
    const sliced = new DataIntegrityVerifier(store, { writeAnchor: false, workersMax: 0 });
    expect(await sliced.verifyAsync({ full: true })).toEqual([]);
    expect(byScrub(path, () => {})).toEqual([]);

    const gov = reportFreshInputs(reopen(path, { ...fixture, endWallMs: Date.now() }));
    open.push(gov);
    expect(await gov.runStartupChecks()).toBe(true);
  });

  it('prunes again later: the second base is attested by its own event', () => {
    const path = copy();
    expect(prune(path, 50).kind).toBe('pruned');
    const second = prune(path, 120);
    expect(second).toMatchObject({ kind: 'pruned', prunedEvents: 70, violationsAfter: [] });
    expect(atStart(path)).toEqual([]);
    expect(prune(path, 110)).toMatchObject({ kind: 'nothing' });
  });
});

describe('around a prune', () => {
  it('a database of schema 4 (before event_log_base) is migrated on its next read-write open, verifies, and prunes', () => {
    const path = copy();
    tamper(
      path,
      'DROP TABLE event_log_base',
      'ALTER TABLE system_state DROP COLUMN owner_thresholds',
      'DROP TABLE venues',
      'DROP TABLE fleet_epochs',
      'DROP INDEX events_fleet_epochs',
      'PRAGMA user_version = 4',
    );
    expect(() => Store.open(path, { readonly: true })).toThrow(
      /GOV_SCHEMA_NEEDS_MIGRATION|schema version 4/,
    );
    Store.open(path).close();
    expect(atStart(path)).toEqual([]);
    expect(prune(path, 10).kind).toBe('pruned');
    expect(atStart(path)).toEqual([]);
  });

  it('governor verify --expect-head: the base itself matches; a head inside the pruned history is checked against the archive', () => {
    const path = copy();
    const kept = rows(path).events[49] as { seq: number; hash: string };
    const outcome = prune(path, 100);
    if (outcome.kind !== 'pruned') throw new Error(outcome.kind);
    const { base } = outcome;
    expect(verifyDatabase({ dbPath: path, expectHead: `${base.seq}:${base.hash}` }).ok).toBe(true);
    expect(verifyDatabase({ dbPath: path, expectHead: base.hash }).ok).toBe(true);
    const inPruned = verifyDatabase({ dbPath: path, expectHead: `${kept.seq}:${kept.hash}` });
    expect(inPruned.ok).toBe(false);
    expect(inPruned.violations[0]?.description).toMatch(/lies in the pruned history/);
    const archived = verifyDatabase({
      dbPath: outcome.archivePath,
      expectHead: `${kept.seq}:${kept.hash}`,
    });
    expect(archived.ok).toBe(true);
  });
});

describe('a hole cut by hand is an integrity violation at start, in the scrub and in governor verify', () => {
  it('regression: a prefix deleted by SQL with a base row written by hand (its hash right) is UNATTESTED_BASE', () => {
    const path = copy();
    const hash = (rows(path).events[99] as { hash: string }).hash;
    const cut = [
      'DELETE FROM events WHERE seq <= 100',
      `INSERT INTO event_log_base VALUES (1, 100, '${hash}', '2026-01-01T00:00:00.000Z', 'mallory', 'x', 'none.db')`,
    ];
    const scrubbed = byScrub(copyOf(path), () => {});
    expect(scrubbed).toEqual([]);
    const live = copyOf(path);
    expect(kinds(byScrub(live, () => tamper(live, ...cut)))).toContain('UNATTESTED_BASE');
    tamper(path, ...cut);
    expect(kinds(atStart(path))).toContain('UNATTESTED_BASE');
    const verdict = verifyDatabase({ dbPath: path });
    expect(verdict.ok).toBe(false);
    expect(kinds(verdict.violations)).toContain('UNATTESTED_BASE');
  });

  it('regression: a prefix deleted by SQL without a base row is a seq gap from seq 1', () => {
    const path = copy();
    tamper(path, 'DELETE FROM events WHERE seq <= 100');
    expect(kinds(atStart(path))).toContain('SEQ_GAP');
  });

  it('regression: a legitimate base whose hash was changed breaks the link of the first row and loses its attestation', () => {
    const path = copy();
    expect(prune(path, 100).kind).toBe('pruned');
    const edit = `UPDATE event_log_base SET through_hash = '${'a'.repeat(64)}'`;
    const live = copyOf(path);
    expect(kinds(byScrub(live, () => tamper(live, edit)))).toEqual(
      expect.arrayContaining(['UNATTESTED_BASE', 'PREV_HASH_MISMATCH']),
    );
    tamper(path, edit);
    expect(kinds(atStart(path))).toEqual(
      expect.arrayContaining(['UNATTESTED_BASE', 'PREV_HASH_MISMATCH']),
    );
    expect(verifyDatabase({ dbPath: path }).ok).toBe(false);
  });

  it('regression: a legitimate base moved forward over more deleted rows (seq and hash of a later event) is unattested', () => {
    const path = copy();
    expect(prune(path, 100).kind).toBe('pruned');
    const moved = [
      `UPDATE event_log_base SET through_seq = 150, through_hash = (SELECT hash FROM events WHERE seq = 150)`,
      'DELETE FROM events WHERE seq <= 150',
    ];
    const live = copyOf(path);
    expect(kinds(byScrub(live, () => tamper(live, ...moved)))).toContain('UNATTESTED_BASE');
    tamper(path, ...moved);
    expect(kinds(atStart(path))).toContain('UNATTESTED_BASE');
    expect(verifyDatabase({ dbPath: path }).ok).toBe(false);
  });

  it('regression: rows missing just after the base are a seq gap', () => {
    const path = copy();
    expect(prune(path, 100).kind).toBe('pruned');
    const gap = 'DELETE FROM events WHERE seq IN (101, 102)';
    const live = copyOf(path);
    expect(kinds(byScrub(live, () => tamper(live, gap)))).toContain('SEQ_GAP');
    tamper(path, gap);
    expect(kinds(atStart(path))).toEqual(expect.arrayContaining(['SEQ_GAP', 'ROW_COUNT_MISMATCH']));
    expect(verifyDatabase({ dbPath: path }).ok).toBe(false);
  });

  it('regression: the attesting OPERATOR_ACTION PRUNE event deleted (the newest event) leaves the base unattested', () => {
    const path = copy();
    const outcome = prune(path, 100);
    if (outcome.kind !== 'pruned') throw new Error(outcome.kind);
    const drop = `DELETE FROM events WHERE seq = ${outcome.attestationSeq}`;
    const live = copyOf(path);
    expect(kinds(byScrub(live, () => tamper(live, drop)))).toContain('UNATTESTED_BASE');
    tamper(path, drop);
    expect(kinds(atStart(path))).toContain('UNATTESTED_BASE');
    expect(verifyDatabase({ dbPath: path }).ok).toBe(false);
  });
});

describe('a prune that is refused writes nothing', () => {
  function expectUnchanged(path: string, attempt: () => unknown, code: string): void {
    const before = rows(path);
    let thrown: unknown = null;
    try {
      attempt();
    } catch (error) {
      thrown = error;
    }
    expect(isGovernorError(thrown, code as never)).toBe(true);
    expect(rows(path)).toEqual(before);
  }

  it('refuses a blank operator, a blank reason, both selections or none, an archive that exists, the head', () => {
    const path = copy();
    const archive = `${path}.refused.db`;
    const base = { dbPath: path, archivePath: archive, operator: 'olga', reason: 'why' };
    expectUnchanged(
      path,
      () => pruneEventLogOffline({ ...base, operator: ' ', throughSeq: 5 }),
      'GOV_OPERATOR_REQUIRED',
    );
    expectUnchanged(
      path,
      () => pruneEventLogOffline({ ...base, reason: '', throughSeq: 5 }),
      'GOV_REASON_REQUIRED',
    );
    expectUnchanged(
      path,
      () => pruneEventLogOffline({ ...base, throughSeq: 5, olderThanMs: 1 }),
      'GOV_INVALID_ARGUMENT',
    );
    expectUnchanged(path, () => pruneEventLogOffline(base), 'GOV_INVALID_ARGUMENT');
    expectUnchanged(
      path,
      () => pruneEventLogOffline({ ...base, archivePath: path, throughSeq: 5 }),
      'GOV_INVALID_ARGUMENT',
    );
    const head = rows(path).events.length;
    expectUnchanged(
      path,
      () => pruneEventLogOffline({ ...base, throughSeq: head }),
      'GOV_INVALID_OPERATOR_ACTION',
    );
    expect(existsSync(archive)).toBe(false);
  });

  it('regression: a prune through the SYSTEM_SHUTDOWN that justifies the latch in force is refused; the latch cross-check still finds it after a prune before it', async () => {
    const path = copy();
    const gov = reportFreshInputs(reopen(path, { ...fixture, endWallMs: Date.now() }));
    expect(await gov.runStartupChecks()).toBe(true);
    gov.operatorShutdown({ operator: 'olga', reason: 'INC-8' });
    gov.close();
    const store = Store.open(path, { readonly: true });
    const latchSeq = new ModeJournal(store).latchEventSeq();
    store.close();
    expect(latchSeq).not.toBeNull();
    const seq = latchSeq as number;
    expectUnchanged(
      path,
      () =>
        pruneEventLogOffline({
          dbPath: path,
          throughSeq: seq,
          archivePath: `${path}.latch.db`,
          operator: 'olga',
          reason: 'too far',
        }),
      'GOV_INVALID_OPERATOR_ACTION',
    );
    expect(existsSync(`${path}.latch.db`)).toBe(false);
    expect(prune(path, seq - 1).kind).toBe('pruned');
    const after = Store.open(path, { readonly: true });
    open.push(after);
    const authority = new ModeJournal(after).read();
    expect(authority.loggedLatch).toMatchObject({ trigger: 'OPERATOR_KILL' });
    expect(authority.latch).toMatchObject({ trigger: 'OPERATOR_KILL' });
    expect(authority.discrepancy).toBeNull();
  });
});

/** A fresh copy of a database (and its anchor) under a new name. */
function copyOf(path: string): string {
  copies++;
  const target = join(fixture.dir, `pruned-${copies}.db`);
  copyDatabase(path, target);
  return target;
}

describe('the chain base violations are catalogued', () => {
  it('docs/integrity.md names every location.kind the chain base check reports', () => {
    const document = readFileSync(new URL('../../../docs/integrity.md', import.meta.url), 'utf8');
    for (const kind of BASE_VIOLATION_KINDS) expect(document).toContain(`\`${kind}\``);
  });
});
