/**
 * Goal: system_state starts conservative (OBSERVE_ONLY, no latch), records the desired mode, the
 * lifecycle and the shutdown latch across reopen, keeps who cleared a latch, and refuses bad input.
 */
import { describe, expect, it } from 'vitest';
import type { Mode } from '../../machines/types.js';
import { Store } from '../../persistence/index.js';
import { dumpDatabase, expectGovernorError, tempDatabasePath } from './helpers.js';

const AT = '2025-12-17T09:30:00.000Z';

describe('systemState', () => {
  it('starts in OBSERVE_ONLY with no lifecycle and no latch', () => {
    const store = Store.open(':memory:');
    expect(store.systemState.get()).toMatchObject({
      desiredMode: 'OBSERVE_ONLY',
      lifecycleState: null,
      lifecycleId: null,
      latch: null,
      lastClearance: null,
    });
    store.close();
  });

  it('keeps mode, lifecycle and latch across a reopen; clearing keeps who and when', () => {
    const path = tempDatabasePath();
    const store = Store.open(path);
    store.systemState.setDesiredMode('AGGRESSIVE');
    store.systemState.setLifecycle('SHUTDOWN', 'lifecycle-1');
    store.systemState.setLatch({
      trigger: 'MARKET_DATA_STALL',
      reason: 'no ticks for 10 min',
      at: AT,
    });
    store.close();
    const reopened = Store.open(path);
    expect(reopened.systemState.get()).toMatchObject({
      desiredMode: 'AGGRESSIVE',
      lifecycleState: 'SHUTDOWN',
      lifecycleId: 'lifecycle-1',
      latch: { trigger: 'MARKET_DATA_STALL', reason: 'no ticks for 10 min', at: AT },
    });
    expect(
      reopened.systemState.clearLatch({ operator: 'alice', reason: 'feed restored', at: AT }),
    ).toBe(true);
    expect(reopened.systemState.get()).toMatchObject({
      latch: null,
      lastClearance: { operator: 'alice', reason: 'feed restored', at: AT },
    });
    expect(reopened.systemState.clearLatch({ operator: 'bob', reason: 'again', at: AT })).toBe(
      false,
    );
    expect(reopened.systemState.get().lastClearance?.operator).toBe('alice');
    reopened.systemState.setLatch({ trigger: 'OPERATOR_KILL', reason: 'kill switch', at: AT });
    expect(reopened.systemState.get()).toMatchObject({
      latch: { trigger: 'OPERATOR_KILL' },
      lastClearance: null,
    });
    reopened.close();
  });

  const refusals: Array<[string, (store: Store) => unknown, string]> = [
    [
      'an unknown mode',
      (s) => s.systemState.setDesiredMode('SHUTDOWN' as Mode),
      'GOV_INVALID_MODE',
    ],
    [
      'a lower-case mode',
      (s) => s.systemState.setDesiredMode('aggressive' as Mode),
      'GOV_INVALID_MODE',
    ],
    [
      'an unknown lifecycle state',
      (s) => s.systemState.setLifecycle('RUNNING' as 'STARTING', 'l'),
      'GOV_INVALID_ARGUMENT',
    ],
    [
      'an empty lifecycle id',
      (s) => s.systemState.setLifecycle('STARTING', ''),
      'GOV_INVALID_TEXT',
    ],
    [
      'an unknown trigger',
      (s) => s.systemState.setLatch({ trigger: 'BORED' as 'OPERATOR_KILL', reason: 'r', at: AT }),
      'GOV_INVALID_ARGUMENT',
    ],
    [
      'a latch time that is not ISO-8601',
      (s) => s.systemState.setLatch({ trigger: 'OPERATOR_KILL', reason: 'r', at: '17/12/2025' }),
      'GOV_INVALID_TIMESTAMP',
    ],
    [
      'an impossible latch time',
      (s) =>
        s.systemState.setLatch({
          trigger: 'OPERATOR_KILL',
          reason: 'r',
          at: '2025-02-30T00:00:00Z',
        }),
      'GOV_INVALID_TIMESTAMP',
    ],
    [
      'a clearance without operator',
      (s) => s.systemState.clearLatch({ operator: ' ', reason: 'r', at: AT }),
      'GOV_OPERATOR_REQUIRED',
    ],
    [
      'a clearance without reason',
      (s) => s.systemState.clearLatch({ operator: 'alice', reason: '', at: AT }),
      'GOV_REASON_REQUIRED',
    ],
  ];

  it.each(refusals)('refuses %s and writes nothing', (_name, act, code) => {
    const path = tempDatabasePath();
    const store = Store.open(path);
    store.systemState.setLatch({ trigger: 'HEALTH_CHECK_FAILED', reason: 'unhealthy', at: AT });
    const before = dumpDatabase(path);
    expectGovernorError(() => act(store), code as Parameters<typeof expectGovernorError>[1]);
    expect(dumpDatabase(path)).toBe(before);
    store.close();
  });
});
