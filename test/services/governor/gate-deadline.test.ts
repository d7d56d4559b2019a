/**
 * Goal: services/governor/gate-deadline.ts answers `authorize()` with the reason of the state
 * the machine is in (risk-reducing orders in OBSERVE_ONLY, and in SHUTDOWN only when allowed),
 * says which lease or input closed the gate by its deadline in AGGRESSIVE, and lets the venues'
 * switches be renewed only while a lifecycle runs with a live heartbeat lease.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { requestShutdown } from '../../../services/governor/dispatcher.js';
import {
  authorize,
  deadlineReason,
  mayRenewSwitches,
} from '../../../services/governor/gate-deadline.js';
import { operatorObserve } from '../../../services/governor/operator-actions.js';
import { runStartupChecks } from '../../../services/governor/startup.js';
import { openRuntime, type RuntimeFixture } from './fixtures/runtime.js';

let fixture: RuntimeFixture | undefined;
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
});

const alice = { operator: 'alice', reason: 'desk review' };

describe('authorize', () => {
  it('says why in each state, and allows risk-reducing orders in OBSERVE_ONLY', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    expect(authorize(runtime)).toEqual({
      allowed: false,
      state: 'STARTING',
      reason: 'STARTING: not yet AGGRESSIVE',
    });
    await runStartupChecks(runtime);
    expect(authorize(runtime).allowed).toBe(true);
    operatorObserve(runtime, alice);
    expect(authorize(runtime)).toMatchObject({
      allowed: false,
      reason: 'OBSERVE_ONLY (OPERATOR): operator alice: desk review',
    });
    expect(authorize(runtime, { reducesExposure: true })).toMatchObject({
      allowed: true,
      reason: expect.stringMatching(/^risk-reducing order allowed in OBSERVE_ONLY/),
    });
  });

  it('allows a risk-reducing order in SHUTDOWN only when configured so', async () => {
    for (const allowRiskReducingInShutdown of [false, true]) {
      fixture = openRuntime({ allowRiskReducingInShutdown });
      const { runtime } = fixture;
      requestShutdown(runtime, { trigger: 'MARKET_DATA_STALL', reason: 'no ticks' });
      expect(authorize(runtime)).toMatchObject({
        allowed: false,
        reason: 'SHUTDOWN (MARKET_DATA_STALL): no ticks',
      });
      expect(authorize(runtime, { reducesExposure: true }).allowed).toBe(
        allowRiskReducingInShutdown,
      );
      fixture.cleanup();
      fixture = undefined;
    }
  });
});

describe('the deadline', () => {
  it('names the heartbeat lease when it ran out before the machine reacted', async () => {
    fixture = openRuntime();
    const { runtime, clock } = fixture;
    await runStartupChecks(runtime);
    const lossMs = runtime.thresholds.heartbeatLossMs;
    const later = clock.monotonicNow() + lossMs * 4;
    expect(deadlineReason(runtime, later)).toMatch(
      /^heartbeat lease expired \(no successful heartbeat for /,
    );
  });

  it('renews the switches only while a lifecycle runs with a live heartbeat', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    expect(mayRenewSwitches(runtime)).toBe(false); // STARTING
    await runStartupChecks(runtime);
    expect(mayRenewSwitches(runtime)).toBe(true);
    requestShutdown(runtime, { trigger: 'OPERATOR_KILL', reason: 'stop' });
    expect(mayRenewSwitches(runtime)).toBe(false);
  });
});
