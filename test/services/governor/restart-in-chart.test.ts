/**
 * Goal: an operator restart is one event through the authority statechart (`operator.restart`
 * leaving `halted`), not a lifecycle built by hand: the inspector sees the event, the listeners
 * hear only the chart's SHUTDOWN → STARTING, and a refused restart sends nothing at all.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { isGovernorError } from '../../../services/errors.js';
import type { ModeChange } from '../../../services/governor/effects.js';
import type { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { type Harness, makeHarness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(() => {
  h?.cleanup();
  h = undefined;
});

const OPERATOR = { operator: 'alice', reason: 'restart test' };

function inspected(): {
  gov: GovernanceSystem;
  restarts: Array<Record<string, unknown>>;
  changes: ModeChange[];
} {
  h = makeHarness();
  h.gov.close();
  const restarts: Array<Record<string, unknown>> = [];
  const gov = h.reopen({
    inspect: (event: InspectionEvent) => {
      if (event.type === '@xstate.event' && event.event.type === 'operator.restart') {
        restarts.push(event.event as Record<string, unknown>);
      }
    },
  });
  const changes: ModeChange[] = [];
  gov.onModeChange((change) => changes.push(change));
  return { gov, restarts, changes };
}

describe('the restart in the chart', () => {
  it('sends one operator.restart; the listeners hear SHUTDOWN → STARTING from the chart, once', async () => {
    const { gov, restarts, changes } = inspected();
    gov.healthMonitor.updateMarketDataTimestamp();
    await gov.runStartupChecks();
    gov.operatorShutdown(OPERATOR);
    changes.length = 0;
    gov.operatorRestart(OPERATOR);
    expect(restarts).toHaveLength(1);
    expect(restarts[0]).toMatchObject({ preflight: { passed: true }, force: false });
    expect(changes.map((change) => `${change.from}->${change.to}`)).toEqual(['SHUTDOWN->STARTING']);
    expect(changes[0]?.lifecycleId).toBe(gov.getLifecycleId());
    expect(gov.getState()).toBe('STARTING');
    expect(await gov.runStartupChecks()).toBe(true);
  });

  it('a restart the pre-flight refuses sends nothing; forced, it goes through the chart with force', async () => {
    const { gov, restarts } = inspected();
    gov.operatorShutdown(OPERATOR);
    // No market data ever: the pre-flight finds a trigger that would fire at once.
    h?.clock.advance(3_600_000);
    let refused: unknown;
    try {
      gov.operatorRestart(OPERATOR);
    } catch (error) {
      refused = error;
    }
    expect(isGovernorError(refused, 'GOV_RESTART_WOULD_TRIP')).toBe(true);
    expect(restarts).toEqual([]);
    expect(gov.getState()).toBe('SHUTDOWN');
    gov.operatorRestart(OPERATOR, { force: true });
    expect(restarts).toHaveLength(1);
    expect(restarts[0]).toMatchObject({ preflight: { passed: false }, force: true });
    expect(gov.getState()).toBe('STARTING');
  });

  it('a restart outside a latch is refused before the chart is asked', () => {
    const { gov, restarts } = inspected();
    expect(() => gov.operatorRestart(OPERATOR)).toThrow(/restart is possible only in SHUTDOWN/);
    expect(restarts).toEqual([]);
  });
});
