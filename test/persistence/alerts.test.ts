/**
 * Goal: alerts round-trip in the spec's shape, list newest first, allow one open alert per dedup
 * key, are acknowledged by a named operator and resolved by incident; bad input writes nothing.
 */
import { describe, expect, it } from 'vitest';
import { type AlertInput, Store } from '../../persistence/index.js';
import { dumpDatabase, expectGovernorError, tempDatabasePath } from './helpers.js';

const AT = '2025-12-17T09:30:00.000Z';

function alert(alertId: string, overrides: Partial<AlertInput> = {}): AlertInput {
  return {
    alertId,
    timestamp: AT,
    severity: 'CRITICAL',
    title: 'System entered SHUTDOWN',
    message: 'Market data feed stalled for 10 minutes',
    rootCause: 'no ticks from the exchange adapter',
    recommendedAction: 'Check the feed, then restart as an operator',
    metadata: { trigger: 'MARKET_DATA_STALL' },
    dedupKey: `incident-${alertId}`,
    kind: 'SHUTDOWN',
    ...overrides,
  };
}

describe('alerts', () => {
  it('round-trips, lists newest first, acknowledges and resolves', () => {
    const store = Store.open(':memory:');
    const stored = store.alerts.insert(alert('a1'));
    expect(stored).toEqual({
      ...alert('a1'),
      acknowledged: false,
      acknowledgedBy: null,
      acknowledgedAt: null,
      resolvedAt: null,
    });
    store.alerts.insert(
      alert('a2', { severity: 'WARNING', metadata: null, dedupKey: null, kind: null }),
    );
    store.alerts.insert(alert('a3', { severity: 'INFO' }));
    expect(store.alerts.list().map((a) => a.alertId)).toEqual(['a3', 'a2', 'a1']);
    expect(store.alerts.list({ limit: 1 }).map((a) => a.alertId)).toEqual(['a3']);
    expect(store.alerts.get('a2')?.metadata).toBeNull();
    const acknowledged = store.alerts.acknowledge('a1', 'alice', AT);
    expect(acknowledged).toMatchObject({
      acknowledged: true,
      acknowledgedBy: 'alice',
      acknowledgedAt: AT,
    });
    expect(store.alerts.acknowledge('a1', 'bob', AT).acknowledgedBy).toBe('alice');
    expect(store.alerts.list({ unacknowledgedOnly: true }).map((a) => a.alertId)).toEqual([
      'a3',
      'a2',
    ]);
    expect(store.alerts.countBySeverity()).toEqual({ CRITICAL: 1, WARNING: 1, INFO: 1 });
    expect(store.alerts.countBySeverity({ unacknowledgedOnly: true })).toEqual({
      CRITICAL: 0,
      WARNING: 1,
      INFO: 1,
    });
    expect(store.alerts.findOpenByDedupKey('incident-a1')?.alertId).toBe('a1');
    expect(store.alerts.resolve('incident-a1', AT).map((a) => a.alertId)).toEqual(['a1']);
    expect(store.alerts.findOpenByDedupKey('incident-a1')).toBeNull();
    expect(store.alerts.resolve('incident-a1', AT)).toEqual([]);
    // After resolution the incident may alert again.
    expect(store.alerts.insert(alert('a4', { dedupKey: 'incident-a1' })).alertId).toBe('a4');
    expect(store.alerts.get('ghost')).toBeNull();
    store.close();
  });

  const refusals: Array<[string, (store: Store) => unknown, string]> = [
    [
      'a duplicate alert id',
      (s) => s.alerts.insert(alert('a1', { dedupKey: 'other' })),
      'GOV_DUPLICATE_ALERT',
    ],
    [
      'a second open alert of an incident',
      (s) => s.alerts.insert(alert('a9', { dedupKey: 'incident-a1' })),
      'GOV_DUPLICATE_ALERT',
    ],
    [
      'an unknown severity',
      (s) => s.alerts.insert(alert('a9', { severity: 'FATAL' as 'INFO' })),
      'GOV_INVALID_ARGUMENT',
    ],
    ['an empty title', (s) => s.alerts.insert(alert('a9', { title: '' })), 'GOV_INVALID_TEXT'],
    [
      'a bad timestamp',
      (s) => s.alerts.insert(alert('a9', { timestamp: 'now' })),
      'GOV_INVALID_TIMESTAMP',
    ],
    [
      'array metadata',
      (s) => s.alerts.insert(alert('a9', { metadata: [] as unknown as null })),
      'GOV_INVALID_METADATA',
    ],
    [
      'metadata with a function',
      (s) => s.alerts.insert(alert('a9', { metadata: { f: () => 0 } })),
      'GOV_INVALID_METADATA',
    ],
    [
      'acknowledged without operator',
      (s) => s.alerts.insert(alert('a9', { acknowledged: true })),
      'GOV_INVALID_ARGUMENT',
    ],
    [
      'acknowledging an unknown alert',
      (s) => s.alerts.acknowledge('ghost', 'alice', AT),
      'GOV_UNKNOWN_ALERT',
    ],
    [
      'acknowledging without operator',
      (s) => s.alerts.acknowledge('a1', '', AT),
      'GOV_OPERATOR_REQUIRED',
    ],
    [
      'acknowledging at a bad time',
      (s) => s.alerts.acknowledge('a1', 'alice', 'today'),
      'GOV_INVALID_TIMESTAMP',
    ],
    ['listing with a limit of 0', (s) => s.alerts.list({ limit: 0 }), 'GOV_INVALID_ARGUMENT'],
  ];

  it.each(refusals)('refuses %s and writes nothing', (_name, act, code) => {
    const path = tempDatabasePath();
    const store = Store.open(path);
    store.alerts.insert(alert('a1'));
    const before = dumpDatabase(path);
    expectGovernorError(() => act(store), code as Parameters<typeof expectGovernorError>[1]);
    expect(dumpDatabase(path)).toBe(before);
    store.close();
  });
});
