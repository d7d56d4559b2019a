/**
 * Goal: services/governor/operator-actions.ts validates each operator request and refuses what
 * the chart would not take before anything is written (resume outside OBSERVE_ONLY, restart
 * without a latch or into a trip), audits what it does, and sends the chart one event: the kill
 * switch from any state (a second one changes nothing but is audited), a forced restart into a
 * new lifecycle, a capital correction with its before and after.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isGovernorError } from '../../../services/errors.js';
import {
  operatorAdjustCapital,
  operatorObserve,
  operatorRestart,
  operatorResume,
  operatorShutdown,
} from '../../../services/governor/operator-actions.js';
import { runStartupChecks } from '../../../services/governor/startup.js';
import { openRuntime, type RuntimeFixture } from './fixtures/runtime.js';

let fixture: RuntimeFixture | undefined;
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
});

const alice = { operator: 'alice', reason: 'maintenance window' };

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isGovernorError(error)) return error.code;
    throw error;
  }
  return 'none';
}

/** The operator actions audited so far, oldest first. */
function audited(f: RuntimeFixture): string[] {
  return [...f.runtime.store.events.iterate(1)]
    .filter((event) => event.eventType === 'OPERATOR_ACTION')
    .map((event) => String((event.metadata as { action?: unknown } | null)?.action));
}

/** A pool and an account; the returned function breaks them (the account one unit over). */
function brokenCapital(f: RuntimeFixture): () => void {
  const capital = f.runtime.engine.capital;
  capital.createPool('main', { currency: 'USD' });
  capital.createAccount('acct-1', 'main');
  capital.deposit('acct-1', 100n);
  return () => {
    f.runtime.store
      .rawHandleForFaultInjection()
      .prepare(
        "UPDATE capital_accounts SET balance_minor = balance_minor + 1 WHERE account_id = 'acct-1'",
      )
      .run();
  };
}

describe('operator actions', () => {
  it('refuses a resume outside OBSERVE_ONLY, and a restart without a latch, writing nothing', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    await runStartupChecks(runtime);
    const before = audited(fixture);
    expect(codeOf(() => operatorRestart(runtime, alice))).toBe('GOV_INVALID_OPERATOR_ACTION');
    await expect(operatorResume(runtime, alice)).rejects.toMatchObject({
      code: 'GOV_INVALID_OPERATOR_ACTION',
    });
    expect(audited(fixture)).toEqual(before);
    expect(runtime.lifecycle.state).toBe('AGGRESSIVE');
  });

  it('shuts down from any state; a second kill changes nothing and is audited all the same', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    await runStartupChecks(runtime);
    operatorShutdown(runtime, alice);
    const latch = runtime.lifecycle.latch;
    expect(latch).toMatchObject({
      trigger: 'OPERATOR_KILL',
      reason: 'operator alice: maintenance window',
    });
    operatorShutdown(runtime, { operator: 'bob', reason: 'again' });
    expect(runtime.lifecycle.latch).toEqual(latch);
    expect(audited(fixture).filter((action) => action === 'SHUTDOWN')).toHaveLength(2);
  });

  it('refuses a restart into a trip unless forced; forced, a new lifecycle begins at STARTING', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    const broken = brokenCapital(fixture);
    await runStartupChecks(runtime);
    const firstLifecycle = runtime.lifecycle.context.lifecycleId;
    broken();
    operatorShutdown(runtime, alice);
    const audits = audited(fixture);
    expect(codeOf(() => operatorRestart(runtime, alice))).toBe('GOV_RESTART_WOULD_TRIP');
    expect(runtime.lifecycle.state).toBe('SHUTDOWN');
    expect(audited(fixture)).toEqual(audits);
    operatorRestart(runtime, alice, { force: true });
    expect(runtime.lifecycle.state).toBe('STARTING');
    expect(runtime.lifecycle.latch).toBeNull();
    expect(runtime.journal.readLatch()).toBeNull();
    expect(runtime.lifecycle.context.lifecycleId).not.toBe(firstLifecycle);
    expect(audited(fixture).at(-1)).toBe('RESTART');
  });

  it('records an observe before a lifecycle as the mode to reach', () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    operatorObserve(runtime, alice);
    expect(runtime.lifecycle.state).toBe('STARTING');
    expect(runtime.lifecycle.context.desiredMode).toBe('OBSERVE_ONLY');
    expect(runtime.journal.read().desiredMode).toBe('OBSERVE_ONLY');
  });

  it('refuses a capital correction of zero, and reports a real one before and after', () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    brokenCapital(fixture)();
    expect(
      codeOf(() => operatorAdjustCapital(runtime, alice, { poolId: 'main', amountMinor: 0n })),
    ).toBe('GOV_INVALID_AMOUNT');
    const corrected = operatorAdjustCapital(runtime, alice, {
      poolId: 'main',
      accountId: 'acct-1',
      amountMinor: -1n,
    });
    expect(corrected.before.differenceMinor).not.toBe(0n);
    expect(corrected.after.differenceMinor).toBe(0n);
    expect(corrected.reconciled).toBe(true);
  });
});
