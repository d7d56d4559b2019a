/**
 * Goal: services/governor/dispatcher.ts words every input as one event and leaves the decision
 * to the chart: a reason of any length still shuts down (cut to what the store keeps); nothing
 * reaches a closed governor; a heartbeat loss in STARTING is alerted without a mode change; a
 * fleet authority loss already held by the record is not alerted again by a new lifecycle; an
 * integrity finding shuts down on capital, is alerted in place otherwise, and not at all while
 * latched. A real Assembly on a SimulatedClock over a temporary file.
 */
import { Buffer } from 'node:buffer';
import { afterEach, describe, expect, it } from 'vitest';
import type { IntegrityViolation } from '../../../persistence/integrity/index.js';
import {
  authorityLost,
  heartbeatLost,
  integrityViolations,
  requestShutdown,
  STATE_REASON_BYTES_MAX,
} from '../../../services/governor/dispatcher.js';
import { runStartupChecks } from '../../../services/governor/startup.js';
import { openRuntime, type RuntimeFixture } from './fixtures/runtime.js';

let fixture: RuntimeFixture | undefined;
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
});

function finding(check: IntegrityViolation['check'], description: string): IntegrityViolation {
  return {
    check,
    severity: 'CRITICAL',
    description,
    location: { table: 'events' },
    rootCause: 'edited outside governor',
    recommendedAction: 'restore',
  };
}

const kinds = (f: RuntimeFixture): string[] => f.raised.map((alert) => alert.kind);

describe('the one door into the statechart', () => {
  it('shuts down on a reason of any length, cut to what the store keeps', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    await runStartupChecks(runtime);
    requestShutdown(runtime, { trigger: 'HEALTH_CHECK_FAILED', reason: 'é'.repeat(10_000) });
    expect(runtime.lifecycle.state).toBe('SHUTDOWN');
    const recorded = runtime.journal.readLatch();
    expect(recorded?.trigger).toBe('HEALTH_CHECK_FAILED');
    expect(Buffer.byteLength(recorded?.reason ?? '')).toBeLessThanOrEqual(STATE_REASON_BYTES_MAX);
    expect(recorded?.reason.startsWith('éé')).toBe(true);
  });

  it('sends nothing to a closed governor', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    await runStartupChecks(runtime);
    runtime.close();
    requestShutdown(runtime, { trigger: 'HEALTH_CHECK_FAILED', reason: 'after close' });
    heartbeatLost(runtime, 60_000);
    expect(runtime.lifecycle.state).toBe('AGGRESSIVE');
    expect(fixture.raised).toEqual([]);
  });

  it('alerts a heartbeat loss in STARTING and leaves the mode as it is', () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    heartbeatLost(runtime, 20_000);
    expect(runtime.lifecycle.state).toBe('STARTING');
    expect(kinds(fixture)).toEqual(['HEARTBEAT_LOSS']);
    expect(fixture.raised[0]?.metadata).toMatchObject({ state: 'STARTING' });
  });

  it('does not alert again a fleet authority loss the record holds from the last lifecycle', async () => {
    fixture = openRuntime();
    const first = fixture.runtime;
    await runStartupChecks(first);
    authorityLost(first, 'lease lost');
    expect(first.lifecycle.state).toBe('OBSERVE_ONLY');
    expect(first.lifecycle.context.hold?.cause).toBe('AUTHORITY_LOST');
    expect(kinds(fixture)).toEqual(['AUTHORITY_LOSS']);
    first.close();
    // A new process: a new lifecycle (its own incident keys) with the loss held by the record.
    const second = fixture.reopen();
    await runStartupChecks(second);
    expect(second.lifecycle.state).toBe('OBSERVE_ONLY');
    authorityLost(second, 'still lost');
    expect(kinds(fixture)).toEqual(['AUTHORITY_LOSS']);
    expect(second.lifecycle.context.lifecycleId).not.toBe(first.lifecycle.context.lifecycleId);
  });

  it('shuts down on a capital finding, and alerts any other finding in place', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    integrityViolations(runtime, [finding('EVENT_LOG', 'hash chain broken at 7')]);
    expect(runtime.lifecycle.state).toBe('STARTING');
    expect(kinds(fixture)).toEqual(['INTEGRITY_VIOLATION']);
    integrityViolations(runtime, [finding('CAPITAL', 'pool p: total 10 != accounts 9')]);
    expect(runtime.lifecycle.state).toBe('SHUTDOWN');
    expect(runtime.lifecycle.latch?.trigger).toBe('CAPITAL_INCONSISTENT');
    const before = fixture.raised.length;
    // Latched: the shutdown's alert says more; a later finding raises nothing.
    integrityViolations(runtime, [finding('SNAPSHOTS', 'snapshot 3 altered')]);
    expect(fixture.raised.length).toBe(before);
    // Each finding is logged all the same.
    const logged = [...runtime.store.events.iterate(1)].filter(
      (event) => event.eventType === 'INTEGRITY_VIOLATION',
    );
    expect(logged.length).toBe(3);
  });

  it('holds OBSERVE_ONLY on a finding while trading', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    await runStartupChecks(runtime);
    integrityViolations(runtime, [finding('STRATEGIES', 'strategy s unknown')]);
    expect(runtime.lifecycle.state).toBe('OBSERVE_ONLY');
    expect(runtime.lifecycle.context.hold?.cause).toBe('INTEGRITY_VIOLATION');
    expect(runtime.gate.canDeployCapital()).toBe(false);
  });
});

describe('the chart effect that alerts a loss', () => {
  it('regression: an alert that cannot be raised never fails the machine (no shutdown follows)', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    runtime.incidents.heartbeatLoss = () => {
      throw new Error('alert store gone');
    };
    heartbeatLost(runtime, 20_000);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(runtime.lifecycle.state).toBe('STARTING');
    expect(runtime.lifecycle.latch).toBeNull();
    expect(runtime.health.getSystemHealth().errorRate).toBeGreaterThan(0);
  });
});
