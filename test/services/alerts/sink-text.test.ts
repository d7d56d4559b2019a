/**
 * Goal: what an alert sink renders for a person cannot be forged or hidden by the alert's
 * text. Slack gets visible escapes for control, bidi and zero-width characters and entities for
 * `&`, `<`, `>` (so `<!channel>` pings nobody) in every mrkdwn block and the fallback text; the
 * PagerDuty summary is one line of at most 1,024 characters. Machine fields (PagerDuty
 * `custom_details`, webhook and Alertmanager payloads) keep the exact text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pagerDutyTrigger } from '../../../services/alerts/sinks/pagerduty-sink.js';
import { escapeSlack, slackPayload } from '../../../services/alerts/sinks/slack-sink.js';
import type { GovernorAlert } from '../../../services/alerts/types.js';
import { hasForbidden, hostileText } from '../../support/hostile-text.js';

const EXCHANGE_ERROR = 'HTTP 503\n*Root cause:* all fine <!channel> &amp;\u202e\u200b\u001b[2J';

const alert: GovernorAlert = {
  alertId: '0b9c6f0e-1111-4222-8333-444455556666',
  timestamp: new Date('2026-01-01T00:00:00.000Z'),
  severity: 'CRITICAL',
  title: `Fail-safe shutdown: unrecoverable exception ${EXCHANGE_ERROR}`,
  message: `uncaught exception: ${EXCHANGE_ERROR}`,
  rootCause: EXCHANGE_ERROR,
  recommendedAction: EXCHANGE_ERROR,
  metadata: { reason: EXCHANGE_ERROR },
  acknowledged: false,
  kind: 'SHUTDOWN',
  dedupKey: `shutdown:${EXCHANGE_ERROR}`,
  acknowledgedBy: null,
  acknowledgedAt: null,
  resolvedAt: null,
};

/** Every string in a payload, wherever it sits. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

describe('Slack', () => {
  it('an exchange error in an alert shows as visible escapes and pings nobody', () => {
    const payload = slackPayload(alert, false);
    const [header, ...rest] = payload.blocks;
    // The header is plain_text, which Slack never reads as markup: only the escapes apply.
    for (const text of strings(header)) expect(hasForbidden(text)).toBe(false);
    for (const text of strings([payload.text, rest])) {
      expect(hasForbidden(text)).toBe(false);
      expect(text).not.toContain('<!channel>');
    }
    expect(JSON.stringify(payload.blocks)).toContain(
      'HTTP 503\\\\n*Root cause:* all fine &lt;!channel&gt; &amp;amp;\\\\u202e\\\\u200b\\\\x1b[2J',
    );
    expect(payload.text).toContain('\\u202e');
  });

  it('property: escapeSlack leaves no control, bidi or zero-width character and no raw < or >', () => {
    fc.assert(
      fc.property(hostileText(), (text) => {
        const escaped = escapeSlack(text);
        expect(hasForbidden(escaped)).toBe(false);
        expect(escaped).not.toMatch(/[<>]/);
        expect(escaped.replaceAll(/&(amp|lt|gt);/g, '')).not.toContain('&');
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('PagerDuty', () => {
  it('the summary is one line with visible escapes; custom_details keep the exact text', () => {
    const trigger = pagerDutyTrigger('R0UTINGKEY', 'gov-1', alert);
    expect(hasForbidden(trigger.payload.summary)).toBe(false);
    expect(trigger.payload.summary).toContain('\\n*Root cause:*');
    expect(trigger.payload.custom_details.rootCause).toBe(EXCHANGE_ERROR);
  });

  it('a long summary is cut to 1,024 characters on a whole escape', () => {
    const long: GovernorAlert = { ...alert, message: '\u202e'.repeat(2_000) };
    const summary = pagerDutyTrigger('R0UTINGKEY', 'gov-1', long).payload.summary;
    expect(summary.length).toBeLessThanOrEqual(1_024);
    expect(summary).toMatch(/(\\u202e)+…$/);
  });
});
