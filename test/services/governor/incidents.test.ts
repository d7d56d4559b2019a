/**
 * Goal: services/governor/incidents.ts, driven with a recording alert manager: each incident has
 * a stable dedup key, distinct from every other incident's (one alert per incident, never two
 * incidents in one alert); each alert is raised with its kind, severity and the words the
 * catalogue and the incident give; resolving a resume or a restart names exactly the kinds it
 * ends.
 */
import { describe, expect, it } from 'vitest';
import {
  SHUTDOWN_TRIGGERS,
  type ShutdownLatch,
  type StartupReport,
} from '../../../machines/types.js';
import type { AlertManager, RaiseAlertInput } from '../../../services/alerts/alert-manager.js';
import { SHUTDOWN_ALERTS, STARTUP_FAILURE_ALERT } from '../../../services/alerts/catalogue.js';
import type { AlertKind } from '../../../services/alerts/types.js';
import {
  type Incident,
  Incidents,
  incidentKey,
  SAFE_MODE_ALERT_KINDS,
} from '../../../services/governor/incidents.js';

const LATCH: ShutdownLatch = {
  trigger: 'MARKET_DATA_STALL',
  reason: 'no market data for 10m',
  at: '2026-01-01T00:00:00.000Z',
};

interface Recorded {
  readonly raised: RaiseAlertInput[];
  readonly staged: RaiseAlertInput[];
  readonly resolvedKeys: string[];
  readonly resolvedKinds: Array<readonly AlertKind[]>;
  readonly open: Set<string>;
}

function recordingAlerts(): { alerts: AlertManager; rec: Recorded } {
  const rec: Recorded = {
    raised: [],
    staged: [],
    resolvedKeys: [],
    resolvedKinds: [],
    open: new Set(),
  };
  const fake = {
    raise: (input: RaiseAlertInput) => {
      rec.raised.push(input);
      if (rec.open.has(input.dedupKey)) return null;
      rec.open.add(input.dedupKey);
      return { alertId: `alert-${rec.raised.length}` };
    },
    stage: (input: RaiseAlertInput) => {
      rec.staged.push(input);
      return rec.open.has(input.dedupKey) ? null : { input };
    },
    isOpen: (key: string) => rec.open.has(key),
    resolveIncident: (key: string) => void rec.resolvedKeys.push(key),
    resolveOpenIncidents: (kinds: readonly AlertKind[]) => void rec.resolvedKinds.push(kinds),
  };
  return { alerts: fake as unknown as AlertManager, rec };
}

describe('incidentKey', () => {
  const other: ShutdownLatch = { ...LATCH, at: '2026-01-01T00:00:00.001Z' };
  const incidents: Incident[] = [
    { kind: 'SHUTDOWN', latch: LATCH },
    { kind: 'SHUTDOWN', latch: other },
    { kind: 'SHUTDOWN', latch: { ...LATCH, trigger: 'OPERATOR_KILL' } },
    { kind: 'HEARTBEAT_LOSS', lifecycleId: 'lc-1' },
    { kind: 'HEARTBEAT_LOSS', lifecycleId: 'lc-2' },
    { kind: 'INTEGRITY_VIOLATION', lifecycleId: 'lc-1' },
    { kind: 'STARTUP_FAILURE', lifecycleId: 'lc-1', visit: 1 },
    { kind: 'STARTUP_FAILURE', lifecycleId: 'lc-1', visit: 2 },
    { kind: 'LATCH_DISCREPANCY', latch: LATCH },
    { kind: 'VENUE_NOT_FLAT', latch: LATCH, venue: 'kraken' },
    { kind: 'VENUE_NOT_FLAT', latch: LATCH, venue: 'binance' },
    { kind: 'VENUE_NOT_FLAT', latch: other, venue: 'kraken' },
    { kind: 'AUTHORITY_LOSS', lifecycleId: 'lc-1' },
    { kind: 'AUTHORITY_QUEUE', lifecycleId: 'lc-1' },
  ];

  it('is unique per incident: no two distinct incidents share a key', () => {
    const keys = incidents.map(incidentKey);
    expect(new Set(keys).size).toBe(incidents.length);
  });

  it('is stable: the same incident gives the same key, from its own fields only', () => {
    for (const incident of incidents) {
      expect(incidentKey(structuredClone(incident))).toBe(incidentKey(incident));
    }
    expect(incidentKey({ kind: 'SHUTDOWN', latch: { ...LATCH, reason: 'other words' } })).toBe(
      incidentKey({ kind: 'SHUTDOWN', latch: LATCH }),
    );
    expect(incidentKey({ kind: 'STARTUP_FAILURE', lifecycleId: 'lc-9', visit: 3 })).toBe(
      'startup:lc-9:3',
    );
  });
});

describe('Incidents', () => {
  it('a SHUTDOWN raises one CRITICAL alert per latch, with the catalogue words of its trigger', () => {
    for (const trigger of SHUTDOWN_TRIGGERS) {
      const { alerts, rec } = recordingAlerts();
      const incidents = new Incidents(alerts);
      const latch = { ...LATCH, trigger };
      const details = { from: 'AGGRESSIVE', lifecycleId: 'lc-1', persistedTo: 'database' };
      expect(incidents.shutdown(latch, details)).toBe(true);
      expect(incidents.shutdown(latch, details)).toBe(false);
      expect(incidents.shutdownAlertOpen(latch)).toBe(true);
      expect(incidents.shutdownAlertOpen({ ...latch, at: '2027-01-01T00:00:00.000Z' })).toBe(false);
      expect(rec.raised[0]).toEqual({
        kind: 'SHUTDOWN',
        dedupKey: incidentKey({ kind: 'SHUTDOWN', latch }),
        severity: 'CRITICAL',
        title: SHUTDOWN_ALERTS[trigger].title,
        message: `AGGRESSIVE -> SHUTDOWN: ${latch.reason}`,
        rootCause: `${trigger}: ${SHUTDOWN_ALERTS[trigger].rootCause}`,
        recommendedAction: SHUTDOWN_ALERTS[trigger].recommendedAction,
        metadata: { trigger, lifecycleId: 'lc-1', persistedTo: 'database' },
      });
    }
  });

  it('a staged SHUTDOWN alert is the same alert as a raised one', () => {
    const { alerts, rec } = recordingAlerts();
    const incidents = new Incidents(alerts);
    const details = { from: 'OBSERVE_ONLY', lifecycleId: 'lc-1', persistedTo: null };
    expect(incidents.stageShutdown(LATCH, details)).not.toBeNull();
    incidents.shutdown(LATCH, details);
    expect(rec.staged[0]).toEqual(rec.raised[0]);
  });

  it('a startup failure names each failed check with its root cause, and the first one’s action', () => {
    const { alerts, rec } = recordingAlerts();
    const report: StartupReport = {
      lifecycleId: 'lc-1',
      visit: 2,
      passed: false,
      completedAt: LATCH.at,
      results: [
        {
          name: 'event_log_integrity',
          outcome: 'passed',
          passed: true,
          details: 'ok',
          rootCause: '',
          recommendedAction: '',
        },
        {
          name: 'capital_reconciliation',
          outcome: 'failed',
          passed: false,
          details: 'allocated > total',
          rootCause: 'a pool overdrawn',
          recommendedAction: 'reconcile pool p-1',
        },
        {
          name: 'adapters_reachable',
          outcome: 'failed',
          passed: false,
          details: 'kraken timed out',
          rootCause: '',
          recommendedAction: 'check the network',
        },
      ],
    };
    new Incidents(alerts).startupFailure(report, 'startup checks failed', 'lc-1', 2);
    expect(rec.raised[0]).toMatchObject({
      kind: 'STARTUP_FAILURE',
      dedupKey: 'startup:lc-1:2',
      severity: 'CRITICAL',
      message: 'startup checks failed',
      rootCause:
        'failed checks: capital_reconciliation (a pool overdrawn); adapters_reachable (kraken timed out)',
      recommendedAction: 'reconcile pool p-1',
      metadata: {
        lifecycleId: 'lc-1',
        visit: 2,
        failedChecks: ['capital_reconciliation', 'adapters_reachable'],
      },
    });
  });

  it('a startup failure with no report (a timeout) gives the cause and the catalogue action', () => {
    const { alerts, rec } = recordingAlerts();
    new Incidents(alerts).startupFailure(null, 'startup checks timed out after 1000 ms', 'lc-1', 1);
    expect(rec.raised[0]).toMatchObject({
      rootCause: 'startup checks timed out after 1000 ms',
      recommendedAction: STARTUP_FAILURE_ALERT.recommendedAction,
      metadata: { failedChecks: [] },
    });
  });

  it('an integrity violation keeps at most 20 findings in its summary and each root cause once', () => {
    const { alerts, rec } = recordingAlerts();
    const findings = Array.from({ length: 25 }, (_, i) => ({
      description: `row ${i} altered`,
      rootCause: i % 2 === 0 ? 'edited outside governor' : 'disk corruption',
      recommendedAction: `restore row ${i}`,
      check: 'hash_chain',
      location: { seq: i },
    }));
    new Incidents(alerts).integrityViolation(findings, 'lc-1');
    const alert = rec.raised[0];
    expect(alert?.kind).toBe('INTEGRITY_VIOLATION');
    expect(alert?.dedupKey).toBe('integrity:lc-1');
    expect((alert?.metadata as { violations?: unknown[] } | undefined)?.violations).toHaveLength(
      20,
    );
    expect(alert?.rootCause).toBe('edited outside governor; disk corruption');
    expect(alert?.recommendedAction).toBe('restore row 0');
    expect(alert?.message.split('; ')).toHaveLength(25);
  });

  it('a venue not flat: one alert per venue and latch, counting orders in words', () => {
    const SHUTDOWN_CAUSE = { kind: 'shutdown', latch: LATCH } as const;
    const { alerts, rec } = recordingAlerts();
    const incidents = new Incidents(alerts);
    const base = { afterMs: 5_000, attempts: 3, error: undefined };
    expect(incidents.venueNotFlat(SHUTDOWN_CAUSE, { ...base, venue: 'a', openOrders: 1 })).toBe(
      'alert-1',
    );
    expect(
      incidents.venueNotFlat(SHUTDOWN_CAUSE, { ...base, venue: 'a', openOrders: 1 }),
    ).toBeNull();
    incidents.venueNotFlat(SHUTDOWN_CAUSE, {
      ...base,
      venue: 'b',
      openOrders: 2,
      error: 'HTTP 503',
    });
    incidents.venueNotFlat(SHUTDOWN_CAUSE, { ...base, venue: 'c', openOrders: undefined });
    const messages = rec.raised.map((a) => a.message);
    expect(messages[0]).toBe(
      'a: not flat 5000 ms after the SHUTDOWN (MARKET_DATA_STALL), 1 order open after 3 attempts',
    );
    expect(messages[2]).toBe(
      'b: not flat 5000 ms after the SHUTDOWN (MARKET_DATA_STALL), 2 orders open after 3 attempts; last error: HTTP 503',
    );
    expect(messages[3]).toMatch(/its open orders unknown/);
    expect(rec.raised[3]?.metadata).toMatchObject({ openOrders: null });
    incidents.resolveVenueNotFlat(SHUTDOWN_CAUSE, 'b');
    expect(rec.resolvedKeys).toEqual([
      incidentKey({ kind: 'VENUE_NOT_FLAT', latch: LATCH, venue: 'b' }),
    ]);
  });

  it("an operator's resume ends the safe mode's incidents only; a restart ends every open one", () => {
    const { alerts, rec } = recordingAlerts();
    const incidents = new Incidents(alerts);
    incidents.resolveSafeMode();
    incidents.resolveAll();
    expect(rec.resolvedKinds[0]).toEqual(SAFE_MODE_ALERT_KINDS);
    expect(rec.resolvedKinds[0]).not.toContain('SHUTDOWN');
    expect(rec.resolvedKinds[0]).not.toContain('VENUE_NOT_FLAT');
    expect([...(rec.resolvedKinds[1] ?? [])].sort()).toEqual(
      ['SHUTDOWN', 'VENUE_NOT_FLAT', ...SAFE_MODE_ALERT_KINDS].sort(),
    );
  });

  it('the authority queue is a WARNING with its usage to three places; losses are CRITICAL', () => {
    const { alerts, rec } = recordingAlerts();
    const incidents = new Incidents(alerts);
    incidents.authorityQueue(0.51234, 'lc-1');
    incidents.authorityLoss('lease expired', 'lc-1', { leaseMs: 10_000 });
    incidents.heartbeatLoss('no heartbeat for 2m', 'lc-1', { ageMs: 120_001 });
    expect(rec.raised.map((a) => [a.kind, a.severity])).toEqual([
      ['AUTHORITY_QUEUE', 'WARNING'],
      ['AUTHORITY_LOSS', 'CRITICAL'],
      ['HEARTBEAT_LOSS', 'CRITICAL'],
    ]);
    expect(rec.raised[0]?.message).toBe('pg_notification_queue_usage() = 0.512');
    expect(rec.raised[1]?.metadata).toEqual({ lifecycleId: 'lc-1', leaseMs: 10_000 });
    expect(rec.raised[2]?.metadata).toEqual({ lifecycleId: 'lc-1', ageMs: 120_001 });
  });

  it('a latch discrepancy is an INTEGRITY_VIOLATION keyed by the latch, apart from the lifecycle’s', () => {
    const { alerts, rec } = recordingAlerts();
    new Incidents(alerts).latchDiscrepancy(LATCH, 'system_state has a latch the log does not');
    expect(rec.raised[0]).toMatchObject({
      kind: 'INTEGRITY_VIOLATION',
      severity: 'CRITICAL',
      dedupKey: incidentKey({ kind: 'LATCH_DISCREPANCY', latch: LATCH }),
      message: 'system_state has a latch the log does not',
      metadata: { trigger: 'MARKET_DATA_STALL', latchAt: LATCH.at },
    });
  });
});
