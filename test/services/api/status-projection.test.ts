/**
 * Goal: the one status projection (`governance.status()`) stays small enough for every place
 * that shows it: at most 10 alerts, their texts cut with a visible `…` (the control socket
 * that answers `governor status` takes 64 KiB per message), counted in full; and its time is
 * the governor's injected clock, not the server's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  STATUS_ALERT_TEXT_CHARS_MAX,
  STATUS_ALERTS_MAX,
} from '../../../services/governor/status.js';
import { type Harness, makeHarness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(() => {
  h?.cleanup();
  h = undefined;
});

describe('governance.status()', () => {
  it('carries the 10 newest alerts, their long texts cut, and counts them all', async () => {
    h = makeHarness();
    const gov = h.gov;
    await gov.runStartupChecks();
    const long = `feed stalled ${'x'.repeat(2_000)} \u{1F600}`;
    for (let incident = 0; incident < STATUS_ALERTS_MAX + 2; incident++) {
      h.clock.skip(1_000);
      gov.failSafeManager.triggerShutdown('MARKET_DATA_STALL', long);
      gov.healthMonitor.updateMarketDataTimestamp();
      gov.operatorRestart({ operator: 'ann', reason: `incident ${incident}` });
      await gov.runStartupChecks();
    }
    const status = gov.status();
    expect(status.unacknowledgedAlerts).toBe(STATUS_ALERTS_MAX + 2);
    expect(status.alerts).toHaveLength(STATUS_ALERTS_MAX);
    for (const alert of status.alerts) {
      expect(alert.message.length).toBe(STATUS_ALERT_TEXT_CHARS_MAX.message);
      expect(alert.message.endsWith('…')).toBe(true);
      expect(alert.resolvedAt).not.toBeNull();
    }
    expect(Buffer.byteLength(JSON.stringify(status))).toBeLessThan(65_536);
  });

  it('is stamped with the governor’s clock', async () => {
    h = makeHarness();
    h.clock.skip(90_000);
    expect(h.gov.status().time).toBe(new Date(h.clock.wallNow()).toISOString());
  });
});
