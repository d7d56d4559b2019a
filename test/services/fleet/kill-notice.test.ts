/**
 * Goal: a NOTIFY payload announces a kill only when it is the authority's kill of a scope the
 * host obeys, with a whole positive epoch; anything else (other scopes, releases, junk, huge
 * payloads) announces nothing. The queue-use alert fires once per rise past its mark.
 */
import { describe, expect, it } from 'vitest';
import { killNotice } from '../../../services/fleet/kill-notice.js';
import { NotifyQueueUsage, QUEUE_USAGE_ALERT } from '../../../services/fleet/notify-queue-usage.js';

const OBEYED = ['firm', 'firm/desk-a'];
const payload = (fields: Record<string, unknown>): string => JSON.stringify(fields);

describe('killNotice', () => {
  it("reads the authority's kill of an obeyed scope", () => {
    expect(
      killNotice(payload({ scope: 'firm/desk-a', state: 'killed', epoch: 7 }), OBEYED),
    ).toEqual({
      scope: 'firm/desk-a',
      epoch: 7,
    });
  });

  it('announces nothing for another scope, a release, a bad epoch, junk or an oversized payload', () => {
    for (const text of [
      payload({ scope: 'firm/desk-b', state: 'killed', epoch: 7 }),
      payload({ scope: 'firm', state: 'open', epoch: 8 }),
      payload({ scope: 'firm', state: 'killed', epoch: 0 }),
      payload({ scope: 'firm', state: 'killed', epoch: 1.5 }),
      payload({ scope: 'firm', state: 'killed', epoch: '9' }),
      payload({ scope: 'firm', state: 'killed', epoch: 7, pad: 'x'.repeat(1_000) }),
      'null',
      '{',
      undefined,
    ]) {
      expect(killNotice(text, OBEYED)).toBeNull();
    }
  });
});

describe('NotifyQueueUsage', () => {
  it('alerts once when use reaches the mark, and again only after it fell below half of it', () => {
    const alerts: number[] = [];
    const queue = new NotifyQueueUsage((usage) => alerts.push(usage));
    for (const usage of [0.1, QUEUE_USAGE_ALERT, 0.9, 0.3, 0.6, 0.2, 0.7]) queue.track(usage);
    expect(alerts).toEqual([QUEUE_USAGE_ALERT, 0.7]);
    expect(queue.usage).toBe(0.7);
  });
});
