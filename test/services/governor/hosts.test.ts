/**
 * Goal: services/governor/hosts.ts turns what each part tells the governor into one dispatch or
 * one answer: a fleet kill shuts down as an audited operator action (and is ignored while a
 * latch is in force), a fleet loss while trading holds OBSERVE_ONLY, the fail-safe reads the
 * latch in force, and the request watcher's result and amounts are worded for JSON.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { requestShutdown } from '../../../services/governor/dispatcher.js';
import {
  balanceText,
  commandTarget,
  failSafeHost,
  fleetHost,
  parseMinor,
} from '../../../services/governor/hosts.js';
import { runStartupChecks } from '../../../services/governor/startup.js';
import { openRuntime, type RuntimeFixture } from './fixtures/runtime.js';

let fixture: RuntimeFixture | undefined;
afterEach(() => {
  fixture?.cleanup();
  fixture = undefined;
});

const kill = { scope: 'desk-a', epoch: 7, changedBy: 'carol', reason: 'venue outage' };

describe('the fleet link host', () => {
  it('shuts down on a kill of its scope, audited in the killer name', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    await runStartupChecks(runtime);
    fleetHost(runtime).kill(kill);
    expect(runtime.lifecycle.latch).toMatchObject({
      trigger: 'OPERATOR_KILL',
      reason: 'operator carol: fleet kill of scope desk-a (epoch 7): venue outage',
    });
  });

  it('still shuts down when the killer name is one the local checks refuse', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    await runStartupChecks(runtime);
    fleetHost(runtime).kill({ ...kill, changedBy: '' });
    expect(runtime.lifecycle.latch?.trigger).toBe('OPERATOR_KILL');
  });

  it('ignores a kill while a latch is in force (the first latch stays)', () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    requestShutdown(runtime, { trigger: 'MARKET_DATA_STALL', reason: 'no ticks' });
    fleetHost(runtime).kill(kill);
    expect(runtime.lifecycle.latch?.trigger).toBe('MARKET_DATA_STALL');
  });

  it('holds OBSERVE_ONLY on a loss while trading', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    await runStartupChecks(runtime);
    fleetHost(runtime).lost('no round trip for 3 s', 3_000);
    expect(runtime.lifecycle.state).toBe('OBSERVE_ONLY');
    expect(runtime.lifecycle.context.hold).toEqual({
      cause: 'AUTHORITY_LOST',
      reason: 'no round trip for 3 s',
    });
  });
});

describe('the fail-safe host', () => {
  it('reads the latch in force and where it was persisted', () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    const host = failSafeHost(runtime);
    expect(host.failSafeState()).toMatchObject({
      inShutdown: false,
      trigger: null,
      persistedTo: null,
    });
    host.shutdown({ trigger: 'EVENT_LOG_WRITE_FAILURE', reason: 'disk full' });
    expect(host.failSafeState()).toMatchObject({
      inShutdown: true,
      latched: true,
      trigger: 'EVENT_LOG_WRITE_FAILURE',
      reason: 'disk full',
      persistedTo: 'database',
    });
    expect(host.capitalMismatch()).toBeNull();
  });
});

describe('the request watcher target', () => {
  it('answers a command with the state, the gate and the cause', async () => {
    fixture = openRuntime();
    const { runtime } = fixture;
    const target = commandTarget(runtime);
    await runStartupChecks(runtime);
    expect(target.commandResult()).toEqual({
      state: 'AGGRESSIVE',
      gateOpen: true,
      cause: null,
      trigger: null,
      reason: null,
    });
    target.operatorShutdown({ operator: 'dave', reason: 'from the command line' });
    expect(target.commandResult()).toEqual({
      state: 'SHUTDOWN',
      gateOpen: false,
      cause: null,
      trigger: 'OPERATOR_KILL',
      reason: 'operator dave: from the command line',
    });
  });

  it('reads amounts as signed integers of minor units, and writes balances as decimal strings', () => {
    expect(parseMinor('-42')).toBe(-42n);
    expect(parseMinor('+9223372036854775807')).toBe(9_223_372_036_854_775_807n);
    expect(parseMinor(17)).toBe(17n);
    for (const bad of ['1.5', '', '12345678901234567890', 1.5, null, 10n]) {
      expect(() => parseMinor(bad)).toThrow(
        expect.objectContaining({ code: 'GOV_INVALID_AMOUNT' }) as unknown as Error,
      );
    }
    expect(
      balanceText({ poolId: 'p', totalMinor: 10n, accountsSumMinor: 9n, differenceMinor: 1n }),
    ).toEqual({ poolId: 'p', totalMinor: '10', accountsSumMinor: '9', differenceMinor: '1' });
  });
});
