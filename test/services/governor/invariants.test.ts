/**
 * Goal: the invariants checked after every machine step (services/governor/invariants.ts) hold
 * over random operator and fail-safe sequences, and an inconsistency forced through the testing
 * seam closes the gate and shuts down with its own trigger, INVARIANT_VIOLATED.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { SHUTDOWN_TRIGGERS } from '../../../machines/types.js';
import { isGovernorError } from '../../../services/errors.js';
import type { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { brokenInvariant } from '../../../services/governor/invariants.js';
import { forceInconsistency } from '../../../testing.js';
import { type Harness, makeHarness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(() => {
  h?.cleanup();
  h = undefined;
});

const OPERATOR = { operator: 'alice', reason: 'invariants test' };

/** The invariants as the public API shows them (what an embedding engine can rely on). */
function publicBreak(gov: GovernanceSystem): string | null {
  const state = gov.getState();
  const latch = gov.getLatch();
  return brokenInvariant({
    gateOpen: state === 'AGGRESSIVE',
    gateAnswersYes: gov.canDeployCapital(),
    state,
    halted: state === 'SHUTDOWN',
    latch,
    startedWithLatch: false,
    recordedLatch: false,
  });
}

describe('a forced inconsistency', () => {
  it('regression: the gate forced open in OBSERVE_ONLY is found at the next step: SHUTDOWN (INVARIANT_VIOLATED)', async () => {
    h = makeHarness({ desiredMode: 'OBSERVE_ONLY' });
    await h.gov.runStartupChecks();
    expect(h.gov.getState()).toBe('OBSERVE_ONLY');
    const raised: string[] = [];
    h.gov.onAlert((alert) => raised.push(alert.title));
    forceInconsistency(h.gov, 'gate-open');
    await h.gov.operatorResume(OPERATOR);
    expect(h.gov.getState()).toBe('SHUTDOWN');
    expect(h.gov.canDeployCapital()).toBe(false);
    expect(h.gov.getLatch()?.trigger).toBe('INVARIANT_VIOLATED');
    expect(h.gov.getLatch()?.reason).toContain('the gate answers yes in CHECKING');
    expect(h.reader().systemState.get().latch?.trigger).toBe('INVARIANT_VIOLATED');
    expect(raised).toContain('Fail-safe shutdown: internal invariant violated');
  });

  it('a latch recorded while the machine runs is found at the next step: SHUTDOWN (INVARIANT_VIOLATED)', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    expect(h.gov.getState()).toBe('AGGRESSIVE');
    forceInconsistency(h.gov, 'latch-recorded');
    h.gov.operatorObserve(OPERATOR);
    expect(h.gov.getState()).toBe('SHUTDOWN');
    expect(h.gov.canDeployCapital()).toBe(false);
    expect(h.gov.getLatch()?.reason).toContain('the durable record holds a latch');
  });

  it('an operator restart after INVARIANT_VIOLATED clears the recorded latch: the next lifecycle may trade', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    forceInconsistency(h.gov, 'latch-recorded');
    h.gov.operatorObserve(OPERATOR);
    expect(h.gov.getLatch()?.trigger).toBe('INVARIANT_VIOLATED');
    h.gov.healthMonitor.updateMarketDataTimestamp();
    h.gov.operatorRestart(OPERATOR);
    expect(h.gov.getState()).toBe('STARTING');
    // The operator's observe (the step that found the break) is still the mode desired.
    await h.gov.runStartupChecks();
    expect(h.gov.getState()).toBe('OBSERVE_ONLY');
    expect(h.gov.getLatch()).toBeNull();
    await h.gov.operatorResume(OPERATOR);
    expect(h.gov.getState()).toBe('AGGRESSIVE');
  });
});

type Action =
  | { kind: 'start' | 'observe' | 'resume' | 'shutdown' | 'restart' | 'forceRestart' }
  | { kind: 'trigger'; trigger: (typeof SHUTDOWN_TRIGGERS)[number] }
  | { kind: 'advance'; ms: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.constantFrom<Action>(
    { kind: 'start' },
    { kind: 'observe' },
    { kind: 'resume' },
    { kind: 'shutdown' },
    { kind: 'restart' },
    { kind: 'forceRestart' },
  ),
  fc
    .constantFrom(...SHUTDOWN_TRIGGERS.filter((trigger) => trigger !== 'INVARIANT_VIOLATED'))
    .map((trigger): Action => ({ kind: 'trigger', trigger })),
  fc.integer({ min: 1, max: 120_000 }).map((ms): Action => ({ kind: 'advance', ms })),
);

async function apply(gov: GovernanceSystem, h: Harness, step: Action): Promise<void> {
  try {
    switch (step.kind) {
      case 'start':
        await gov.runStartupChecks();
        break;
      case 'observe':
        gov.operatorObserve(OPERATOR);
        break;
      case 'resume':
        await gov.operatorResume(OPERATOR);
        break;
      case 'shutdown':
        gov.operatorShutdown(OPERATOR);
        break;
      case 'restart':
        gov.operatorRestart(OPERATOR);
        break;
      case 'forceRestart':
        gov.operatorRestart(OPERATOR, { force: true });
        break;
      case 'trigger':
        gov.failSafeManager.triggerShutdown(step.trigger, 'random sequence');
        break;
      case 'advance':
        h.clock.advance(step.ms);
        gov.healthMonitor.updateMarketDataTimestamp();
        break;
    }
  } catch (error) {
    // A refused action (wrong state, a restart that would trip) changes nothing: allowed.
    if (!isGovernorError(error)) throw error;
  }
}

describe('the invariants after every step of random sequences', () => {
  it('hold after every step, and no sequence trips INVARIANT_VIOLATED', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 12 }), async (steps) => {
        const harness = makeHarness();
        try {
          const broken: string[] = [];
          // Told after every step that changed the mode: the invariants must hold right then.
          harness.gov.onModeChange(() => {
            const found = publicBreak(harness.gov);
            if (found !== null) broken.push(found);
          });
          for (const step of steps) {
            await apply(harness.gov, harness, step);
            const found = publicBreak(harness.gov);
            if (found !== null) broken.push(`after ${step.kind}: ${found}`);
          }
          expect(broken).toEqual([]);
          expect(harness.gov.getLatch()?.trigger).not.toBe('INVARIANT_VIOLATED');
          expect(
            harness.delivered.filter((alert) => alert.title.includes('invariant violated')),
          ).toEqual([]);
        } finally {
          harness.cleanup();
        }
      }),
      { numRuns: 25 },
    );
  });
});
