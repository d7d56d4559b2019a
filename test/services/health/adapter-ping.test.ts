/**
 * Goal: an adapter is reachable only when its ping answers exactly `true` within the timeout.
 * Any other answer (undefined, 'ok', 1, the same through a promise), a throw, a rejection, or no
 * answer in time fails the adapters check and names the adapter; the startup checks then fail
 * and governor does not reach AGGRESSIVE. The rule "anything but false passes" must fail here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../services/clock.js';
import { DEFAULT_THRESHOLDS } from '../../../services/config.js';
import { type AdapterPing, pingAdapter } from '../../../services/health/startup-checks.js';
import { type Harness, makeHarness, settle } from '../../support/harness.js';

const TIMEOUT_MS = 5_000;

/** Answers that are not `true`, given as they are and through a promise. */
const NOT_TRUE: Array<[string, AdapterPing]> = [
  ['undefined', () => undefined as unknown as boolean],
  ["'ok'", () => 'ok' as unknown as boolean],
  ['1', () => 1 as unknown as boolean],
  ['a promise of undefined', () => Promise.resolve(undefined as unknown as boolean)],
  ["a promise of 'ok'", () => Promise.resolve('ok' as unknown as boolean)],
  ['a promise of 1', () => Promise.resolve(1 as unknown as boolean)],
  [
    'a thrown error',
    () => {
      throw new Error('ECONNRESET');
    },
  ],
];

let h: Harness | undefined;
afterEach(() => {
  h?.cleanup();
  h = undefined;
});

describe('an adapter ping passes only on exactly true', () => {
  for (const [answer, ping] of NOT_TRUE) {
    it(`regression: a ping answering ${answer} would pass under "anything but false"; it fails, naming the adapter`, async () => {
      const result = await pingAdapter({ name: 'kraken', ping }, new SimulatedClock(), TIMEOUT_MS);
      expect(result.ok).toBe(false);
      expect(result.detail).toMatch(/^kraken: ping (returned|threw)/);
    });

    it(`regression: startup with a ping answering ${answer} would reach AGGRESSIVE; it fails the adapters check`, async () => {
      h = makeHarness();
      expect(await h.gov.runStartupChecks([{ name: 'kraken', ping }])).toBe(false);
      expect(h.gov.getState()).not.toBe('AGGRESSIVE');
      const check = h.gov
        .getLastStartupReport()
        ?.results.find((result) => result.name === 'adapters_reachable');
      expect(check).toMatchObject({ passed: false, rootCause: 'adapter unreachable: kraken' });
    });
  }

  it('a ping that never resolves fails when the check timeout passes, not before', async () => {
    const clock = new SimulatedClock();
    let answered = false;
    const pending = pingAdapter(
      { name: 'kraken', ping: () => new Promise<boolean>(() => {}) },
      clock,
      TIMEOUT_MS,
    );
    void pending.then(() => {
      answered = true;
    });
    clock.advance(TIMEOUT_MS - 1);
    await settle();
    expect(answered).toBe(false);
    clock.advance(1);
    expect(await pending).toMatchObject({
      ok: false,
      detail: `kraken: no answer within ${TIMEOUT_MS} ms`,
    });
  });

  it('startup with a ping that never resolves fails the adapters check at the ping timeout', async () => {
    h = makeHarness();
    const passed = h.gov.runStartupChecks([{ name: 'kraken', ping: () => new Promise(() => {}) }]);
    await settle();
    h.clock.advance(DEFAULT_THRESHOLDS.adapterPingTimeoutMs);
    expect(await passed).toBe(false);
    expect(h.gov.getState()).not.toBe('AGGRESSIVE');
  });

  it('a ping answering true (or a promise of true) passes', async () => {
    for (const ping of [() => true, () => Promise.resolve(true)]) {
      const result = await pingAdapter({ name: 'kraken', ping }, new SimulatedClock(), TIMEOUT_MS);
      expect(result).toEqual({ name: 'kraken', ok: true, detail: 'kraken: reachable' });
    }
  });
});
