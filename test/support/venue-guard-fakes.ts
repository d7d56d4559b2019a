/**
 * Test support for the venue guard's parts (venue-state.ts, venue-switches.ts,
 * venue-shutdown-flatten.ts): their dependencies as recording fakes on a SimulatedClock (a store
 * that keeps each write and can be made to fail or close, incidents, a logger, a host), and a
 * driver that moves the clock timer by timer, letting promises settle in between.
 */

import type { ShutdownLatch } from '../../machines/types.js';
import type { Store } from '../../persistence/index.js';
import type { SimulatedClock } from '../../services/clock.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../../services/config.js';
import type { Incidents, VenueCancelCause } from '../../services/governor/incidents.js';
import type { VenueGuardDependencies } from '../../services/governor/venue-state.js';
import type { Logger } from '../../services/logger.js';

export interface RecordedEvent {
  readonly eventType: string;
  readonly reason: string;
  readonly metadata: Record<string, unknown>;
}

export interface RecordedWrite {
  readonly method: string;
  readonly args: readonly unknown[];
}

export interface LoggedLine {
  readonly level: 'error' | 'warn';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

export interface VenueGuardFakes {
  readonly deps: VenueGuardDependencies;
  readonly events: RecordedEvent[];
  readonly writes: RecordedWrite[];
  readonly logged: LoggedLine[];
  readonly raised: Array<{ cause: VenueCancelCause; venue: string; alertId: string }>;
  readonly resolved: Array<{ cause: VenueCancelCause; venue: string }>;
  readonly fired: Array<{ venue: string; reason: string }>;
  /** Counts `host.switchDeadlineChanged()` calls. */
  deadlineChanges: number;
  /** What `host.mayRenew()` answers. */
  mayRenew: boolean;
  /** Every store write throws while true. */
  failWrites: boolean;
  /** What `store.isClosed` answers. */
  storeClosed: boolean;
}

/** Test thresholds: a venue call may take 1 s, a venue is not flat 5 s after the start. */
export const TEST_THRESHOLDS: Thresholds = {
  ...DEFAULT_THRESHOLDS,
  adapterPingTimeoutMs: 1_000,
  venueFlatWithinMs: 5_000,
};

export const LATCH: ShutdownLatch = {
  trigger: 'OPERATOR_KILL',
  reason: 'kill drill',
  at: '2026-01-01T00:00:00.000Z',
};

export const SHUTDOWN_CAUSE: VenueCancelCause = { kind: 'shutdown', latch: LATCH };

export function venueGuardFakes(
  clock: SimulatedClock,
  thresholds: Thresholds = TEST_THRESHOLDS,
): VenueGuardFakes {
  const fakes: Omit<VenueGuardFakes, 'deps'> = {
    events: [],
    writes: [],
    logged: [],
    raised: [],
    resolved: [],
    fired: [],
    deadlineChanges: 0,
    mayRenew: true,
    failWrites: false,
    storeClosed: false,
  };
  const write =
    (method: string) =>
    (...args: unknown[]): void => {
      if (fakes.failWrites) throw new Error('disk I/O error');
      fakes.writes.push({ method, args });
    };
  const store = {
    get isClosed() {
      return fakes.storeClosed;
    },
    events: {
      append: (event: RecordedEvent): void => {
        if (fakes.failWrites) throw new Error('disk I/O error');
        fakes.events.push(event);
      },
    },
    venues: {
      recordNotFlat: write('recordNotFlat'),
      recordCancel: write('recordCancel'),
      recordCount: write('recordCount'),
      recordSwitchArmed: write('recordSwitchArmed'),
      recordSwitchDisarmed: write('recordSwitchDisarmed'),
    },
  };
  let alerts = 0;
  const incidents = {
    venueNotFlat: (cause: VenueCancelCause, details: { venue: string }): string => {
      alerts += 1;
      const alertId = `alert-${alerts}`;
      fakes.raised.push({ cause, venue: details.venue, alertId });
      return alertId;
    },
    resolveVenueNotFlat: (cause: VenueCancelCause, venue: string): void => {
      fakes.resolved.push({ cause, venue });
    },
  };
  const log =
    (level: LoggedLine['level']) =>
    (fields: Record<string, unknown>, message: string): void => {
      fakes.logged.push({ level, fields, message });
    };
  const logger = { error: log('error'), warn: log('warn') };
  const result = fakes as VenueGuardFakes;
  Object.assign(result, {
    deps: {
      store: store as unknown as Store,
      incidents: incidents as unknown as Incidents,
      clock,
      logger: logger as unknown as Logger,
      thresholds,
      actingOwner: false,
      host: {
        mayRenew: () => result.mayRenew,
        switchFired: (venue: string, reason: string) => void result.fired.push({ venue, reason }),
        switchDeadlineChanged: () => {
          result.deadlineChanges += 1;
        },
      },
    } satisfies VenueGuardDependencies,
  });
  return result;
}

/** Lets promise callbacks (a fake venue's answers, the code awaiting them) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Moves `clock` forward by `ms`, one due timer at a time, letting promises settle after each:
 * what an event loop would do in that time, without a real wait.
 */
export async function runFor(clock: SimulatedClock, ms: number): Promise<void> {
  const targetMs = clock.monotonicNow() + ms;
  await flush();
  for (;;) {
    const dueMs = clock.nextDueMs();
    if (dueMs === undefined || dueMs > targetMs) break;
    clock.advance(Math.max(0, dueMs - clock.monotonicNow()));
    await flush();
  }
  clock.advance(targetMs - clock.monotonicNow());
  await flush();
}
