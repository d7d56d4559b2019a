/**
 * The fleet lease on a simulated clock against an in-memory authority: the lease counts from the
 * renewal's send, only moves forward, is not granted on a stale epoch or in a killed scope, and
 * its loss past authorityLossMs is reported once. A notification announcing a kill closes the
 * gate before the renewal it wakes answers; the answer (the record) decides what follows.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../services/clock.js';
import { type FleetKill, FleetLease } from '../../../services/fleet/lease.js';
import { silentLogger } from '../../../services/logger.js';
import { advanceBy, FakeAuthority, flush, settleOn } from '../../support/fleet-fake.js';

function setup(options: { leaseMs?: number; authorityLossMs?: number; scopes?: string[] } = {}) {
  const clock = new SimulatedClock();
  const authority = new FakeAuthority(clock);
  const kills: FleetKill[] = [];
  const lost: number[] = [];
  let regained = 0;
  const lease = new FleetLease({
    transport: authority,
    clock,
    logger: silentLogger(),
    scopes: options.scopes ?? ['firm/desk-a/strategy-x'],
    leaseMs: options.leaseMs ?? 300,
    authorityLossMs: options.authorityLossMs ?? 1_000,
    holder: {
      report: () => ({ state: 'AGGRESSIVE', gateOpen: true, restartCheck: null }),
      leaseChanged: () => {},
      killed: (kill) => kills.push(kill),
      lost: (sinceMs) => lost.push(sinceMs),
      regained: () => {
        regained += 1;
      },
      queueUsageHigh: () => {},
      epochsEstablished: () => {},
      epochsSeen: () => {},
    },
  });
  return { clock, authority, lease, kills, lost, regained: () => regained };
}

async function establish(s: ReturnType<typeof setup>): Promise<void> {
  await settleOn(s.clock, s.lease.establish());
}

describe('FleetLease', () => {
  it('counts the lease from when the renewal was sent, not from its answer', async () => {
    const s = setup();
    s.authority.answerDelayMs = 40;
    let answeredAt = 0;
    await settleOn(
      s.clock,
      s.lease.establish().then(() => {
        answeredAt = s.clock.monotonicNow();
      }),
      1_000,
      1,
    );
    // The establishing round trip took 40 ms: the lease runs from its send, 40 ms before.
    expect(s.lease.leaseEndsAtMs).toBe(answeredAt - 40 + 300);
    s.lease.stop();
  });

  it('renews every leaseMs / 3 while the authority answers, and the gate stays leased', async () => {
    const s = setup();
    await establish(s);
    await advanceBy(s.clock, 2_000);
    expect(s.lease.held()).toBe(true);
    expect(s.lease.leaseEndsAtMs).toBeGreaterThan(s.clock.monotonicNow() + 100);
    s.lease.stop();
  });

  it('ends by itself when the authority stops answering: no later than the last send + leaseMs', async () => {
    const s = setup();
    await establish(s);
    await advanceBy(s.clock, 500);
    s.authority.unreachable = true;
    const cutAt = s.clock.monotonicNow();
    await advanceBy(s.clock, 400);
    expect(s.lease.held()).toBe(false);
    expect(s.lease.leaseEndsAtMs).toBeLessThanOrEqual(cutAt + 300);
    s.lease.stop();
  });

  it('reports the loss once past authorityLossMs, and the regain', async () => {
    const s = setup();
    await establish(s);
    s.authority.unreachable = true;
    await advanceBy(s.clock, 1_500);
    expect(s.lost).toHaveLength(1);
    expect(s.lost[0]).toBeGreaterThanOrEqual(1_000);
    expect(s.lease.view().status).toBe('lost');
    s.authority.unreachable = false;
    await advanceBy(s.clock, 1_000);
    expect(s.regained()).toBe(1);
    expect(s.lease.held()).toBe(true);
    s.lease.stop();
  });

  it('obeys a kill of a wider scope at once (NOTIFY wakes a renewal) and grants nothing after it', async () => {
    const s = setup();
    await establish(s);
    const endBefore = s.lease.leaseEndsAtMs;
    const epoch = s.authority.kill('firm/desk-a');
    await flush();
    await advanceBy(s.clock, 10, 1);
    expect(s.kills).toEqual([
      { scope: 'firm/desk-a', epoch, changedBy: 'alice', reason: 'incident' },
    ]);
    // Fenced: the lease ends at once (the gate's deadline is already past), and stays ended.
    expect(s.lease.leaseEndsAtMs).toBe(Number.NEGATIVE_INFINITY);
    expect(endBefore).toBeGreaterThan(s.clock.monotonicNow());
    await advanceBy(s.clock, 1_000);
    expect(s.lease.leaseEndsAtMs).toBe(Number.NEGATIVE_INFINITY);
    expect(s.lease.held()).toBe(false);
    expect(s.lease.view().status).toBe('fenced');
    s.lease.stop();
  });

  it('ignores a kill of a sibling scope', async () => {
    const s = setup();
    await establish(s);
    s.authority.kill('firm/desk-b');
    s.authority.kill('firm/desk-a-2');
    await advanceBy(s.clock, 1_000);
    expect(s.kills).toEqual([]);
    expect(s.lease.held()).toBe(true);
    s.lease.stop();
  });

  it('fences a host that comes back after a kill and a release it never saw (a stale epoch)', async () => {
    const s = setup();
    await establish(s);
    s.authority.unreachable = true;
    await advanceBy(s.clock, 400);
    s.authority.kill('firm');
    s.authority.release('firm');
    s.authority.unreachable = false;
    await advanceBy(s.clock, 1_000);
    expect(s.kills).toHaveLength(1);
    expect(s.kills[0]?.scope).toBe('firm');
    expect(s.kills[0]?.reason).toMatch(/rose from 0 to 2/);
    expect(s.lease.held()).toBe(false);
    s.lease.stop();
  });

  it('refuses to establish in a killed scope, and establishes again after the release', async () => {
    const s = setup();
    s.authority.kill('firm');
    await expect(settleOn(s.clock, s.lease.establish())).rejects.toMatchObject({
      code: 'GOV_SCOPE_KILLED',
    });
    s.authority.release('firm');
    await establish(s);
    expect(s.lease.held()).toBe(true);
    s.lease.stop();
  });

  it('never moves the lease end backwards (a slow early answer after a fast later one)', async () => {
    const s = setup();
    await establish(s);
    const ends: number[] = [];
    for (let i = 0; i < 50; i++) {
      s.authority.answerDelayMs = (i * 37) % 90;
      await advanceBy(s.clock, 30);
      ends.push(s.lease.leaseEndsAtMs);
    }
    for (let i = 1; i < ends.length; i++) {
      expect(ends[i]).toBeGreaterThanOrEqual(ends[i - 1] as number);
    }
    s.lease.stop();
  });

  describe('a kill notice', () => {
    it('regression: the gate stayed open for a whole renewal round trip after the kill was announced', async () => {
      const s = setup();
      await establish(s);
      s.authority.answerDelayMs = 50;
      const epoch = s.authority.kill('firm/desk-a');
      // Heard now; the renewal it woke answers in 50 ms. The gate closes at once.
      expect(s.lease.leaseEndsAtMs).toBe(Number.NEGATIVE_INFINITY);
      expect(s.lease.pendingNotice()).toEqual({ scope: 'firm/desk-a', epoch });
      expect(s.kills).toEqual([]);
      await advanceBy(s.clock, 60, 5);
      expect(s.kills).toMatchObject([{ scope: 'firm/desk-a', epoch }]);
      expect(s.lease.view().status).toBe('fenced');
      expect(s.lease.pendingNotice()).toBeNull();
      s.lease.stop();
    });

    it('a notice the record does not bear out (forged) closes the gate only until the answer, and kills nothing', async () => {
      const s = setup();
      await establish(s);
      s.authority.answerDelayMs = 50;
      s.authority.notifyOnly(JSON.stringify({ scope: 'firm', state: 'killed', epoch: 7 }));
      expect(s.lease.leaseEndsAtMs).toBe(Number.NEGATIVE_INFINITY);
      // The lease itself was not ended by the notice (a venue's cancel follows the lease).
      expect(s.lease.held()).toBe(true);
      await advanceBy(s.clock, 60, 5);
      expect(s.lease.pendingNotice()).toBeNull();
      expect(s.lease.leaseEndsAtMs).toBeGreaterThan(s.clock.monotonicNow());
      expect(s.lease.view().status).toBe('held');
      expect(s.kills).toEqual([]);
      s.lease.stop();
    });

    it('a renewal sent before the notice was heard does not settle it', async () => {
      const s = setup();
      await establish(s);
      s.authority.answerDelayMs = 50;
      await advanceBy(s.clock, 100, 5);
      // A renewal is on its way (every 100 ms): the notice comes while it is.
      s.authority.notifyOnly(JSON.stringify({ scope: 'firm', state: 'killed', epoch: 3 }));
      await advanceBy(s.clock, 40, 5);
      expect(s.lease.pendingNotice()).not.toBeNull();
      expect(s.lease.leaseEndsAtMs).toBe(Number.NEGATIVE_INFINITY);
      await advanceBy(s.clock, 120, 5);
      expect(s.lease.pendingNotice()).toBeNull();
      expect(s.lease.leaseEndsAtMs).toBeGreaterThan(s.clock.monotonicNow());
      s.lease.stop();
    });

    it('ignores a release, a scope this host does not obey, an epoch already read, and malformed payloads', async () => {
      const s = setup();
      await establish(s);
      s.authority.answerDelayMs = 50;
      for (const payload of [
        JSON.stringify({ scope: 'firm', state: 'open', epoch: 2 }),
        JSON.stringify({ scope: 'firm/desk-b', state: 'killed', epoch: 2 }),
        JSON.stringify({ scope: 'firm', state: 'killed', epoch: 0 }),
        JSON.stringify({ scope: 'firm', state: 'killed', epoch: 1.5 }),
        'not json',
        '',
      ]) {
        s.authority.notifyOnly(payload);
        expect(s.lease.pendingNotice()).toBeNull();
        expect(s.lease.leaseEndsAtMs).toBeGreaterThan(s.clock.monotonicNow());
      }
      s.lease.stop();
    });
  });
});
