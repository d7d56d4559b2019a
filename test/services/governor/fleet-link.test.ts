/**
 * Goal: services/governor/fleet-link.ts checks the `authority` option at its bounds
 * (GOV_INVALID_CONFIG naming the key; scopes and host by their own checks), and a FleetLink over
 * the in-memory authority (test/support/fleet-fake.ts) on a SimulatedClock: its ping
 * establishes the lease and keeps the epochs it established (in the host's memory of them), its reports tell the
 * authority the governor's state and restart check, a kill reaches the host and is confirmed
 * with the state the host reached, and a loss reaches the host with the figures.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LifecycleState } from '../../../machines/types.js';
import { SimulatedClock } from '../../../services/clock.js';
import { isGovernorError } from '../../../services/errors.js';
import type { FleetKill } from '../../../services/fleet/lease.js';
import {
  type AuthorityOptions,
  checkAuthorityOptions,
  FleetLink,
  type FleetLinkHost,
} from '../../../services/governor/fleet-link.js';
import { silentLogger } from '../../../services/logger.js';
import { advanceBy, FakeAuthority, settleOn } from '../../support/fleet-fake.js';

function codeOf(options: AuthorityOptions): string | null {
  try {
    checkAuthorityOptions(options);
  } catch (error) {
    return isGovernorError(error) ? error.code : `not a GovernorError: ${String(error)}`;
  }
  return null;
}

describe('checkAuthorityOptions', () => {
  const scopes = ['firm/desk-a'];

  it('defaults: a 3 s lease, lost after 120 s, the scopes as given', () => {
    expect(checkAuthorityOptions({ scopes, host: 'box-1' })).toEqual({
      host: 'box-1',
      scopes,
      leaseMs: 3_000,
      authorityLossMs: 120_000,
    });
  });

  it('the lease from 150 to 600000 ms inclusive, an integer', () => {
    expect(codeOf({ scopes, host: 'h', leaseMs: 150 })).toBeNull();
    expect(codeOf({ scopes, host: 'h', leaseMs: 149 })).toBe('GOV_INVALID_CONFIG');
    expect(codeOf({ scopes, host: 'h', leaseMs: 600_000 })).toBeNull();
    expect(codeOf({ scopes, host: 'h', leaseMs: 600_001 })).toBe('GOV_INVALID_CONFIG');
    expect(codeOf({ scopes, host: 'h', leaseMs: 1_000.5 })).toBe('GOV_INVALID_CONFIG');
  });

  it('the loss at least the lease; by default never shorter than the lease', () => {
    expect(codeOf({ scopes, host: 'h', leaseMs: 5_000, authorityLossMs: 5_000 })).toBeNull();
    expect(codeOf({ scopes, host: 'h', leaseMs: 5_000, authorityLossMs: 4_999 })).toBe(
      'GOV_INVALID_CONFIG',
    );
    expect(checkAuthorityOptions({ scopes, host: 'h', leaseMs: 600_000 }).authorityLossMs).toBe(
      600_000,
    );
  });

  it('1 to 64 valid scopes and a valid host name', () => {
    const many = (n: number): string[] => Array.from({ length: n }, (_, i) => `firm/s-${i}`);
    expect(codeOf({ scopes: [], host: 'h' })).toBe('GOV_INVALID_CONFIG');
    expect(codeOf({ scopes: many(64), host: 'h' })).toBeNull();
    expect(codeOf({ scopes: many(65), host: 'h' })).toBe('GOV_INVALID_CONFIG');
    expect(codeOf({ scopes: ['firm//x'], host: 'h' })).toBe('GOV_INVALID_SCOPE');
    expect(codeOf({ scopes, host: 'bad host' })).toBe('GOV_INVALID_ARGUMENT');
  });

  it('names the key it refuses', () => {
    try {
      checkAuthorityOptions({ scopes, host: 'h', leaseMs: 1 });
      expect.unreachable();
    } catch (error) {
      expect(isGovernorError(error) && error.details.key).toBe('authority.leaseMs');
    }
  });
});

describe('FleetLink over the in-memory authority', () => {
  let remembered: Array<Record<string, number>>;
  let clock: SimulatedClock;
  let fake: FakeAuthority;
  let state: LifecycleState;
  let refusal: string | null;
  let kills: FleetKill[];
  let losses: Array<{ reason: string; sinceMs: number }>;
  let link: FleetLink | undefined;

  beforeEach(() => {
    remembered = [];
    clock = new SimulatedClock();
    fake = new FakeAuthority(clock);
    state = 'AGGRESSIVE';
    refusal = null;
    kills = [];
    losses = [];
  });
  afterEach(() => {
    link?.lease.stop();
    link = undefined;
  });

  function makeLink(extra: Partial<AuthorityOptions> = {}): FleetLink {
    const host: FleetLinkHost = {
      state: () => state,
      gateOpen: () => state === 'AGGRESSIVE',
      restartRefusal: () => refusal,
      refreshDeadline: () => {},
      kill: (kill) => {
        kills.push(kill);
        state = 'SHUTDOWN';
      },
      lost: (reason, sinceMs) => void losses.push({ reason, sinceMs }),
      queueUsageHigh: () => {},
      leaseChanged: () => {},
      leaseEnded: () => {},
      leaseHeld: () => {},
    };
    link = new FleetLink(
      { scopes: ['firm/desk-a'], host: 'box-1', leaseMs: 300, transport: fake, ...extra },
      { read: () => null, remember: (epochs) => void remembered.push({ ...epochs }) },
      clock,
      silentLogger(),
      host,
    );
    return link;
  }

  it('ping establishes the lease and keeps the epochs it established', async () => {
    const l = makeLink();
    await expect(settleOn(clock, l.ping())).resolves.toBe(true);
    expect(l.lease.view().status).toBe('held');
    expect(remembered).toEqual([{ firm: 0, 'firm/desk-a': 0 }]);
    expect(fake.reports[0]).toMatchObject({
      state: 'AGGRESSIVE',
      gateOpen: true,
      restartCheck: 'not in SHUTDOWN (AGGRESSIVE)',
    });
  });

  it('reports the restart check while in SHUTDOWN: ready, or refused with why', async () => {
    state = 'SHUTDOWN';
    refusal = 'market data is stale';
    const l = makeLink();
    await settleOn(clock, l.ping());
    expect(fake.reports.at(-1)?.restartCheck).toBe('refused: market data is stale');
    refusal = null;
    await advanceBy(clock, 300);
    expect(fake.reports.at(-1)?.restartCheck).toBe('ready');
  });

  it('a kill of an enclosing scope reaches the host and is confirmed with the state it reached', async () => {
    const l = makeLink();
    await settleOn(clock, l.ping());
    const epoch = fake.kill('firm', 'alice', 'incident 7');
    await advanceBy(clock, 300);
    expect(kills).toHaveLength(1);
    expect(kills[0]).toMatchObject({
      scope: 'firm',
      epoch,
      changedBy: 'alice',
      reason: 'incident 7',
    });
    await advanceBy(clock, 100);
    expect(fake.confirmations).toContainEqual({ scope: 'firm', epoch, state: 'SHUTDOWN' });
  });

  it('an authority that stops answering is a loss past authorityLossMs, with its figures, not before', async () => {
    const l = makeLink({ authorityLossMs: 1_000 });
    await settleOn(clock, l.ping());
    fake.unreachable = true;
    await advanceBy(clock, 500);
    expect(losses).toEqual([]);
    await advanceBy(clock, 1_500);
    expect(losses).toHaveLength(1);
    expect(losses[0]?.reason).toMatch(
      /^no lease renewal granted by the fleet authority for \d+ ms \(authorityLossMs 1000\)$/,
    );
    expect(losses[0]?.sinceMs).toBeGreaterThanOrEqual(1_000);
  });
});
