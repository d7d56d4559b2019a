/**
 * Goal: the gate, health, the fail-safe and the reason agree at every boundary. An input is
 * stale only when older than its limit (the spec: "> 5 minutes old"): at its limit exactly the
 * gate is open and health healthy; 1 ms past it the gate is closed, health or the fail-safe say
 * so, and `authorize()` names the rule with exact figures. Property: for input ages around each
 * threshold (-1, 0, +1 ms), the other inputs at any fresh age, before any timer runs (a stalled
 * loop: the gate's deadline alone) and after the timers ran (the machine decided).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Thresholds } from '../../../services/config.js';
import { exactDuration } from '../../../services/health/staleness.js';
import { type Harness, makeHarness } from '../../support/harness.js';

const MINUTE_MS = 60_000;
/** A lease longer than every other limit, so each rule can be reached alone. */
const THRESHOLDS: Partial<Thresholds> = {
  heartbeatLossMs: 24 * 60 * MINUTE_MS,
  snapshotShutdownAfterMs: 2 * 60 * MINUTE_MS,
};

type Rule = 'marketData' | 'eventLogWrite' | 'snapshotWrite' | 'heartbeat';
const INPUTS = ['marketData', 'eventLogWrite', 'snapshotWrite'] as const;
type Input = (typeof INPUTS)[number];

function limitOf(gov: Harness['gov'], rule: Rule): number {
  const t = gov.thresholds;
  if (rule === 'marketData') return t.marketDataUnhealthyAfterMs;
  if (rule === 'eventLogWrite') return t.eventLogUnhealthyAfterMs;
  if (rule === 'snapshotWrite') return t.snapshotShutdownAfterMs;
  return t.heartbeatLossMs;
}

/** How the reason names each rule, with its exact age and limit. */
function namesRule(rule: Rule, ageMs: number, limitMs: number): RegExp {
  const age = exactDuration(ageMs).replace(/[()]/g, '\\$&');
  const limit = exactDuration(limitMs).replace(/[()]/g, '\\$&');
  const text = {
    marketData: `market data is ${age} old \\(limit ${limit}\\)`,
    eventLogWrite: `last event-log write was ${age} ago \\(limit ${limit}\\)`,
    snapshotWrite: `no successful snapshot write for ${age} \\(threshold ${limit}\\)`,
    heartbeat: `no successful heartbeat for ${age} \\(threshold ${limit}\\)`,
  }[rule];
  return new RegExp(text);
}

let snapshots = 0;
function stamp(gov: Harness['gov'], input: Input): void {
  if (input === 'marketData') gov.healthMonitor.updateMarketDataTimestamp();
  else if (input === 'eventLogWrite') {
    gov.engine.events.append({ eventType: 'ORDER_PLACED', reason: 'boundary test', metadata: {} });
  } else {
    snapshots++;
    const date = new Date(Date.UTC(2026, 0, 1) + snapshots * 86_400_000).toISOString().slice(0, 10);
    gov.engine.snapshots.write({ date, data: {} });
  }
}

/** Whether anything but the gate says no capital: health, the fail-safe, the heartbeat, the machine. */
function othersSayClosed(gov: Harness['gov']): boolean {
  return (
    gov.getState() !== 'AGGRESSIVE' ||
    !gov.getSystemHealth().healthy ||
    !gov.preflightRestart().ok ||
    gov.heartbeatAgeMs() > gov.thresholds.heartbeatLossMs
  );
}

async function checkBoundary(rule: Rule, offsetMs: number, fractions: number[]): Promise<void> {
  const h = makeHarness({ thresholds: THRESHOLDS });
  try {
    const gov = h.gov;
    expect(await gov.runStartupChecks()).toBe(true);
    for (const input of INPUTS) stamp(gov, input);
    const startMs = h.clock.monotonicNow();
    const limitMs = limitOf(gov, rule);
    const targetAgeMs = limitMs + offsetMs;
    // The other inputs at fresh ages (a fraction of their limits, within the run).
    const stamps = INPUTS.filter((input) => input !== rule)
      .map((input, i) => ({
        input,
        atMs: startMs + targetAgeMs - Math.floor((fractions[i] ?? 0) * limitOf(gov, input)),
      }))
      .filter((s) => s.atMs > startMs)
      .sort((a, b) => a.atMs - b.atMs);
    // Before any timer runs: a stalled loop, only the gate's deadline stands.
    for (const s of stamps) {
      h.clock.skip(s.atMs - h.clock.monotonicNow());
      stamp(gov, s.input);
    }
    h.clock.skip(startMs + targetAgeMs - h.clock.monotonicNow());
    const closed = !gov.canDeployCapital();
    expect(closed).toBe(offsetMs > 0);
    expect(othersSayClosed(gov)).toBe(closed);
    const decision = gov.authorize();
    expect(decision.allowed).toBe(!closed);
    if (closed) expect(decision.reason).toMatch(namesRule(rule, targetAgeMs, limitMs));
    // The timers run: the machine decides on the same judgement.
    h.clock.runDue();
    const closedAfter = !gov.canDeployCapital();
    expect(othersSayClosed(gov)).toBe(closedAfter);
    // A heartbeat that comes due writes the event log: that input is fresh again.
    if (rule !== 'eventLogWrite') {
      expect(closedAfter).toBe(offsetMs > 0);
      if (closedAfter)
        expect(gov.authorize().reason).toMatch(namesRule(rule, targetAgeMs, limitMs));
    }
  } finally {
    h.cleanup();
  }
}

describe('the gate, health and the reason agree at every boundary', () => {
  const rules: Rule[] = ['marketData', 'eventLogWrite', 'snapshotWrite', 'heartbeat'];
  for (const rule of rules) {
    for (const offsetMs of [-1, 0, 1]) {
      it(`${rule} ${offsetMs >= 0 ? '+' : ''}${offsetMs} ms from its limit`, async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.double({ min: 0, max: 0.9, noNaN: true }), { minLength: 3, maxLength: 3 }),
            (fractions) => checkBoundary(rule, offsetMs, fractions),
          ),
          { numRuns: 3 },
        );
      });
    }
  }

  it('regression: at market data exactly 300000 ms old the gate was closed while health said healthy, with the reason "snapshot overdue"', async () => {
    const h = makeHarness();
    try {
      expect(await h.gov.runStartupChecks()).toBe(true);
      h.gov.healthMonitor.updateMarketDataTimestamp();
      h.clock.advance(300_000); // heartbeats and the periodic check run; no market data
      expect(h.gov.getSystemHealth().healthy).toBe(true);
      expect(h.gov.canDeployCapital()).toBe(true);
      h.clock.skip(1); // before the fail-safe's timer runs: the gate's deadline alone
      expect(h.gov.canDeployCapital()).toBe(false);
      expect(h.gov.getSystemHealth().healthy).toBe(false);
      const reason = h.gov.authorize().reason;
      expect(reason).not.toMatch(/snapshot/);
      expect(reason).toContain('market data is 5m (300001 ms) old (limit 5m)');
    } finally {
      h.cleanup();
    }
  });
});
