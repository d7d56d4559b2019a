/**
 * Goal: the verifier checks the whole log at startup and only what is new afterwards, anchors the
 * verified head beside the database, bounds what it reports, and the GovernanceSystem persists
 * each visit's report, pings adapters within their timeout, and raises one alert per incident.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { headAnchorPathFor, readHeadAnchor } from '../../../persistence/integrity/head-anchor.js';
import { DataIntegrityVerifier } from '../../../persistence/integrity/index.js';
import { SimulatedClock } from '../../../services/clock.js';
import { DEFAULT_THRESHOLDS } from '../../../services/config.js';
import { pingAdapter } from '../../../services/health/startup-checks.js';
import { parseExpectedHead } from '../../../services/health/verify-database.js';
import { copyDatabase, openRaw, rehashFrom } from '../../support/corrupt.js';
import { type Harness, makeHarness, settle } from '../../support/harness.js';
import { buildFixture, type Fixture, reopen } from './fixture.js';

let h: Harness | undefined;
afterEach(() => {
  h?.cleanup();
  h = undefined;
});

describe('DataIntegrityVerifier', () => {
  it('verifies the whole log first, then only the events appended since (cost grows with new events)', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const verifier = h.gov.dataIntegrityVerifier;
    expect(verifier.getLastRun()).toMatchObject({ full: true, fromSeq: 1 });
    const verifiedSeq = verifier.getVerifiedHead()?.seq ?? 0;
    h.gov.engine.events.appendBatch(
      Array.from({ length: 7 }, (_, i) => ({ eventType: 'TEST', reason: `r${i}` })),
    );
    const afterHead = h.gov.engine.events.head();
    expect(verifier.verify()).toEqual([]);
    expect(verifier.getLastRun()).toMatchObject({
      full: false,
      fromSeq: verifiedSeq + 1,
      eventsChecked: (afterHead?.seq ?? 0) - verifiedSeq,
    });
    expect(verifier.getVerifiedHead()).toMatchObject({
      seq: afterHead?.seq,
      hash: afterHead?.hash,
    });
  });

  it('anchors the verified head beside the database after a clean verification', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const anchor = readHeadAnchor(headAnchorPathFor(h.dbPath));
    const verified = h.gov.dataIntegrityVerifier.getVerifiedHead();
    expect(anchor).toEqual(verified);
    expect(anchor?.hash).toBe(h.gov.engine.events.get(anchor?.seq ?? 1)?.hash);
  });

  it('an incremental run catches damage to new events, keeps reporting it, and catches edits to the verified head', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const verifier = h.gov.dataIntegrityVerifier;
    const db = h.tamper();
    const first = h.gov.engine.events.append({ eventType: 'TEST', reason: 'new' }).seq;
    h.gov.engine.events.append({ eventType: 'TEST', reason: 'newer' });
    db.prepare("UPDATE events SET reason = 'edited' WHERE seq = ?").run(first);
    const damage = new RegExp(`hash mismatch at seq ${first}`);
    expect(
      verifier
        .verify()
        .map((v) => v.description)
        .join('\n'),
    ).toMatch(damage);
    const anchorBefore = readHeadAnchor(headAnchorPathFor(h.dbPath));
    // Nothing new was appended, but the damage is not forgotten, and the anchor does not move.
    expect(
      verifier
        .verify()
        .map((v) => v.description)
        .join('\n'),
    ).toMatch(damage);
    expect(readHeadAnchor(headAnchorPathFor(h.dbPath))).toEqual(anchorBefore);

    h.cleanup();
    h = makeHarness();
    await h.gov.runStartupChecks();
    const clean = h.gov.dataIntegrityVerifier;
    h.gov.engine.events.append({ eventType: 'TEST', reason: 'x' });
    expect(clean.verify()).toEqual([]);
    const head = clean.getVerifiedHead()?.seq ?? 0;
    h.tamper().prepare('UPDATE events SET hash = ? WHERE seq = ?').run('cd'.repeat(32), head);
    expect(
      clean
        .verify()
        .map((v) => v.description)
        .join('\n'),
    ).toMatch(/verified history changed/);
  });

  it('reports at most violationsPerCheckMax per check, plus one that counts the rest', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    h.gov.engine.events.appendBatch(
      Array.from({ length: 30 }, (_, i) => ({ eventType: 'TEST', reason: `r${i}` })),
    );
    h.tamper().prepare("UPDATE events SET reason = 'x' WHERE event_type = 'TEST'").run();
    const verifier = new DataIntegrityVerifier(h.reader(), {
      violationsPerCheckMax: 5,
      writeAnchor: false,
    });
    const found = verifier.verify({ full: true });
    expect(found).toHaveLength(6);
    expect(found[5]?.description).toMatch(/25 further EVENT_LOG finding/);
  });

  it('flags timestamps beyond the configurable future tolerance, measured on the injected clock', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const clock = new SimulatedClock({ wallStartMs: Date.UTC(2026, 0, 1) - 10 * 60_000 });
    const strict = new DataIntegrityVerifier(h.reader(), {
      clock,
      anchorPath: null,
      clockStepToleranceMs: 0,
    });
    expect(
      strict
        .verify()
        .map((v) => v.description)
        .join('\n'),
    ).toMatch(/timestamp in the future/);
    const lenient = new DataIntegrityVerifier(h.reader(), {
      clock,
      anchorPath: null,
      clockStepToleranceMs: 0,
      futureToleranceMs: 60 * 60_000,
    });
    expect(lenient.verify()).toEqual([]);
  });

  it('regression (simulator, wall jumps): a wall clock set back a day while running is no violation', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    h.clock.jumpWall(-24 * 60 * 60_000);
    for (let i = 0; i < 61; i++) {
      h.gov.healthMonitor.updateMarketDataTimestamp();
      h.clock.advance(60_000);
    }
    expect(h.gov.dataIntegrityVerifier.getLastRun()?.full).toBe(false);
    expect(h.gov.dataIntegrityVerifier.getLastViolations()).toEqual([]);
    expect(h.gov.getState()).toBe('AGGRESSIVE');
  });

  it('detects a missing UNIQUE index on event_id even before any duplicate exists', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    h.gov.close();
    const path = join(h.dir, 'loose.db');
    copyDatabase(h.dbPath, path);
    const db = openRaw(path);
    db.exec(
      `CREATE TABLE e2 AS SELECT * FROM events; DROP TABLE events; ALTER TABLE e2 RENAME TO events;`,
    );
    rehashFrom(db, 1);
    db.close();
    const gov = h.reopen({ dbPath: path });
    const found = gov.dataIntegrityVerifier.verify({ full: true });
    expect(found.map((v) => v.description).join('\n')).toMatch(/no UNIQUE index/);
  });

  it('rejects out-of-range options with precise errors', () => {
    h = makeHarness();
    expect(
      () => new DataIntegrityVerifier(h?.reader() as never, { futureToleranceMs: -1 }),
    ).toThrow(/futureToleranceMs/);
    expect(
      () => new DataIntegrityVerifier(h?.reader() as never, { violationsPerCheckMax: 0 }),
    ).toThrow(/violationsPerCheckMax/);
    expect(() => parseExpectedHead('abc')).toThrow(/64-digit/);
    expect(parseExpectedHead(`12:${'a'.repeat(64)}`)).toEqual({ seq: 12, hash: 'a'.repeat(64) });
  });
});

describe('startup reports', () => {
  it('each CHECKING visit is persisted as an event and a startup_reports row, shown by latest()', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const latest = h.reader().startupReports.latest();
    const report = h.gov.getLastStartupReport();
    expect(latest).toMatchObject({
      lifecycleId: report?.lifecycleId,
      visit: report?.visit,
      passed: true,
      results: report?.results,
    });
    expect(latest?.results.map((r) => r.name)).toEqual([
      'event_log_integrity',
      'snapshot_consistency',
      'capital_reconciliation',
      'strategy_state_consistency',
      'system_mode_valid',
      'adapters_reachable',
    ]);
    const events = [...h.reader().events.iterate(1)].filter(
      (e) => e.eventType === 'STARTUP_CHECKS_COMPLETED',
    );
    expect(events).toHaveLength(1);
  });
});

describe('adapters reachable (read-only pings bounded by adapterPingTimeoutMs)', () => {
  it('a ping that hangs fails after the timeout on the injected clock, naming the adapter', async () => {
    const clock = new SimulatedClock();
    const pending = pingAdapter(
      { name: 'binance', ping: () => new Promise<boolean>(() => {}) },
      clock,
      5000,
    );
    clock.advance(4999);
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await settle();
    expect(settled).toBe(false);
    clock.advance(1);
    expect(await pending).toEqual({
      name: 'binance',
      ok: false,
      detail: 'binance: no answer within 5000 ms',
    });
    expect(clock.pendingCount()).toBe(0);
  });

  it.each([
    ['returns false', () => false, /ping returned false/],
    [
      'throws',
      () => {
        throw new Error('ECONNREFUSED');
      },
      /ping threw: ECONNREFUSED/,
    ],
    ['rejects', () => Promise.reject(new Error('503')), /ping threw: 503/],
  ])('a ping that %s fails and names the adapter', async (_label, ping, detail) => {
    const result = await pingAdapter({ name: 'kraken', ping }, new SimulatedClock(), 5000);
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(detail);
    expect(result.detail).toMatch(/^kraken: /);
  });

  it('startup with one failing named adapter lands in OBSERVE_ONLY; the alert names it', async () => {
    h = makeHarness();
    const result = h.gov.runStartupChecks([
      { name: 'coinbase', ping: () => true },
      { name: 'bitstamp', ping: () => new Promise<boolean>(() => {}) },
    ]);
    await settle();
    h.clock.advance(DEFAULT_THRESHOLDS.adapterPingTimeoutMs);
    expect(await result).toBe(false);
    expect(h.gov.getState()).toBe('OBSERVE_ONLY');
    const check = h.gov
      .getLastStartupReport()
      ?.results.find((r) => r.name === 'adapters_reachable');
    expect(check).toMatchObject({ passed: false, rootCause: 'adapter unreachable: bitstamp' });
    await settle();
    expect(h.delivered).toHaveLength(1);
    expect(h.delivered[0]?.rootCause).toMatch(
      /adapters_reachable \(adapter unreachable: bitstamp\)/,
    );
  });

  it('one ping function is accepted as an adapter named "adapter"', async () => {
    h = makeHarness();
    expect(await h.gov.runStartupChecks(() => true)).toBe(true);
    expect(h.gov.getLastStartupReport()?.results.at(-1)?.details).toBe('adapter: reachable');
  });
});

describe('periodic verification on a running GovernanceSystem', () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await buildFixture();
  });
  afterAll(() => fixture?.cleanup());

  it('damage appended after startup is caught within the hour: AGGRESSIVE -> OBSERVE_ONLY, one alert', async () => {
    const path = join(fixture.dir, 'periodic.db');
    copyDatabase(fixture.dbPath, path);
    const { gov, clock, delivered } = reopen(path, fixture);
    try {
      expect(await gov.runStartupChecks()).toBe(true);
      gov.healthMonitor.updateMarketDataTimestamp();
      const seq = gov.engine.events.append({ eventType: 'ORDER', reason: 'placed' }).seq;
      openRaw(path).prepare("UPDATE events SET reason = 'cancelled' WHERE seq = ?").run(seq);
      for (let i = 0; i < 60; i++) {
        gov.healthMonitor.updateMarketDataTimestamp();
        clock.advance(60_000);
      }
      expect(gov.getState()).toBe('OBSERVE_ONLY');
      expect(gov.getCause().cause).toBe('INTEGRITY_VIOLATION');
      for (let i = 0; i < 120; i++) {
        gov.healthMonitor.updateMarketDataTimestamp();
        clock.advance(60_000);
      }
      await settle();
      // The same finding two hours later is not a new incident.
      expect(delivered.map((a) => a.title)).toHaveLength(1);
    } finally {
      gov.close();
    }
  });

  it('after a failed startup, the hourly check does not raise the known finding again', async () => {
    const path = join(fixture.dir, 'known.db');
    copyDatabase(fixture.dbPath, path);
    const raw = openRaw(path);
    raw.prepare("UPDATE events SET reason = 'x' WHERE seq = 3").run();
    raw.close();
    const { gov, clock, delivered } = reopen(path, fixture);
    try {
      expect(await gov.runStartupChecks()).toBe(false);
      for (let i = 0; i < 120; i++) {
        gov.healthMonitor.updateMarketDataTimestamp();
        clock.advance(60_000);
      }
      await settle();
      expect(delivered).toHaveLength(1);
      expect(gov.getState()).toBe('OBSERVE_ONLY');
    } finally {
      gov.close();
    }
  });
});
