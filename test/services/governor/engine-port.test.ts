/**
 * Goal: the engine port (services/governor/engine-port.ts), driven directly over a Store and a
 * HealthMonitor on a SimulatedClock: a snapshot write stamps the snapshot input only once it is
 * committed (at once alone, at the outer commit inside `transaction`, never when the transaction
 * rolls back or the write is refused); governor's reserved event types are refused with
 * GOV_INVALID_ARGUMENT and write nothing; a batch over its bound is refused whole; and
 * `transaction` commits all its writes or none. (Two-faced events: engine-port-input.test.ts.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENT_BATCH_SIZE_MAX } from '../../../persistence/event-input.js';
import { Store } from '../../../persistence/index.js';
import { SimulatedClock } from '../../../services/clock.js';
import { DEFAULT_THRESHOLDS } from '../../../services/config.js';
import { isGovernorError } from '../../../services/errors.js';
import { createEnginePort, type EnginePort } from '../../../services/governor/engine-port.js';
import { HealthMonitor } from '../../../services/health/health-monitor.js';

let store: Store;
let clock: SimulatedClock;
let health: HealthMonitor;
let port: EnginePort;

beforeEach(() => {
  store = Store.open(':memory:');
  clock = new SimulatedClock({ monotonicStartMs: 1_000 });
  health = new HealthMonitor(clock, DEFAULT_THRESHOLDS);
  port = createEnginePort(store, health);
});
afterEach(() => {
  store.close();
});

const snapshotStamp = (): number => health.lastUpdateMonotonicMs().snapshotWrite;

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
  } catch (error) {
    return isGovernorError(error) ? error.code : `not a GovernorError: ${String(error)}`;
  }
  return null;
}

describe('engine port: snapshots stamp the snapshot input on commit', () => {
  it('a snapshot written alone stamps the input at the instant of the write', () => {
    expect(snapshotStamp()).toBe(1_000);
    clock.skip(5_000);
    port.snapshots.write({ date: '2026-01-01', data: { equity: 1 } });
    expect(snapshotStamp()).toBe(6_000);
    expect(port.snapshots.latest()?.date).toBe('2026-01-01');
  });

  it('inside a transaction the stamp waits for the outer commit', () => {
    clock.skip(1_000);
    port.transaction(() => {
      port.transaction(() => {
        port.snapshots.write({ date: '2026-01-01', data: {} });
        expect(snapshotStamp()).toBe(1_000);
      });
      // The inner transaction ended, the outer has not committed: not stamped yet.
      expect(snapshotStamp()).toBe(1_000);
    });
    expect(snapshotStamp()).toBe(2_000);
  });

  it('a transaction that rolls back neither stamps nor keeps the snapshot, and the next commit without one does not stamp', () => {
    clock.skip(1_000);
    expect(() =>
      port.transaction(() => {
        port.snapshots.write({ date: '2026-01-01', data: {} });
        throw new Error('engine gave up');
      }),
    ).toThrow('engine gave up');
    expect(snapshotStamp()).toBe(1_000);
    expect(port.snapshots.get('2026-01-01')).toBeNull();
    port.transaction(() => {
      port.strategies.register('s-1');
    });
    expect(snapshotStamp()).toBe(1_000);
  });

  it('a refused snapshot write does not stamp', () => {
    port.snapshots.write({ date: '2026-01-02', data: {} });
    clock.skip(1_000);
    // Snapshots are written in date order and never overwritten.
    expect(codeOf(() => port.snapshots.write({ date: '2026-01-01', data: {} }))).not.toBeNull();
    expect(codeOf(() => port.snapshots.write({ date: '2026-01-02', data: {} }))).not.toBeNull();
    expect(snapshotStamp()).toBe(1_000);
  });
});

describe('engine port: events', () => {
  it("refuses governor's reserved types with GOV_INVALID_ARGUMENT and writes nothing", () => {
    expect(
      codeOf(() =>
        port.events.append({ eventType: 'SYSTEM_SHUTDOWN', reason: 'forged', metadata: {} }),
      ),
    ).toBe('GOV_INVALID_ARGUMENT');
    expect(
      codeOf(() =>
        port.events.appendBatch([
          { eventType: 'ORDER_PLACED', reason: 'fine', metadata: {} },
          { eventType: 'OPERATOR_ACTION', reason: 'forged', metadata: {} },
        ]),
      ),
    ).toBe('GOV_INVALID_ARGUMENT');
    expect(port.events.count()).toBe(0);
    expect(port.events.head()).toBeNull();
  });

  it("appends an engine's events in order, hash-chained, readable back", () => {
    const first = port.events.append({ eventType: 'ORDER_PLACED', reason: 'a', metadata: {} });
    const batch = port.events.appendBatch([
      { eventType: 'ORDER_FILLED', reason: 'b', metadata: { qty: 1 } },
      { eventType: 'ORDER_CANCELLED', reason: 'c', metadata: {} },
    ]);
    expect(first.seq).toBe(1);
    expect(batch.map((e) => e.seq)).toEqual([2, 3]);
    expect(port.events.count()).toBe(3);
    expect(port.events.head()?.seq).toBe(3);
    expect(port.events.readPage(2, 10).map((e) => e.eventType)).toEqual([
      'ORDER_FILLED',
      'ORDER_CANCELLED',
    ]);
    expect(port.events.get(1)?.reason).toBe('a');
  });

  it('a batch over its bound is refused whole (GOV_INVALID_ARGUMENT); at the bound it is taken', () => {
    const event = { eventType: 'ORDER_PLACED', reason: 'x', metadata: {} };
    const over = Array.from({ length: EVENT_BATCH_SIZE_MAX + 1 }, () => event);
    expect(codeOf(() => port.events.appendBatch(over))).toBe('GOV_INVALID_ARGUMENT');
    expect(port.events.count()).toBe(0);
    port.events.appendBatch(over.slice(1));
    expect(port.events.count()).toBe(EVENT_BATCH_SIZE_MAX);
  });

  it('a transaction commits all its writes or none', () => {
    expect(() =>
      port.transaction(() => {
        port.events.append({ eventType: 'ORDER_PLACED', reason: 'a', metadata: {} });
        port.strategies.register('s-1');
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(port.events.count()).toBe(0);
    expect(port.strategies.get('s-1')).toBeNull();
    const value = port.transaction(() => {
      port.events.append({ eventType: 'ORDER_PLACED', reason: 'a', metadata: {} });
      port.strategies.register('s-1');
      return 42;
    });
    expect(value).toBe(42);
    expect(port.events.count()).toBe(1);
    expect(port.strategies.get('s-1')).not.toBeNull();
  });
});
