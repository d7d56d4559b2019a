/**
 * Goal: a shutdown reason from an exchange (CR, LF, ANSI escapes, a bidi override, zero-width
 * characters, `</script>`) cannot act on the status page: the view embedded in the HTML and
 * every push of the event stream carry it as visible escapes (`\n`, `\x1b`, `\u202e`), the
 * page's script only assigns it to `textContent`, and `</script>` never closes the element.
 * The JSON endpoints keep the exact text (JSON.stringify escapes what JSON must).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { displayView } from '../../../services/api/status-page.js';
import { displayText } from '../../../services/display-text.js';
import { settle } from '../../support/harness.js';
import { hasForbidden } from '../../support/hostile-text.js';
import { type ApiHarness, apiIn, request } from './api-support.js';

const EXCHANGE_ERROR =
  'HTTP 503\r\n</script><script>alert(1)</script>\u001b[32mopen\u202e\u2066\u200b\u2028 "quoted" & <b>';

let current: ApiHarness | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
});

async function shutDownByExchange(): Promise<ApiHarness> {
  const harness = await apiIn('AGGRESSIVE');
  harness.h.gov.failSafeManager.triggerShutdown('UNRECOVERABLE_EXCEPTION', EXCHANGE_ERROR);
  await settle();
  return harness;
}

/** The first `status` event of the stream, its data parsed. */
async function firstStreamedView(base: string): Promise<{ raw: string; view: unknown }> {
  const abort = new AbortController();
  const response = await fetch(`${base}/api/health/stream`, { signal: abort.signal });
  const reader = response.body?.getReader();
  if (reader === undefined) throw new Error('the stream has no body');
  const decoder = new TextDecoder();
  let received = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended before a status event: ${received}`);
    received += decoder.decode(value, { stream: true });
    const start = received.indexOf('event: status\n');
    const end = received.indexOf('\n\n', start);
    if (start !== -1 && end !== -1) {
      abort.abort();
      const message = received.slice(start, end);
      const data = message.split('\n').filter((line) => line.startsWith('data: '));
      expect(data).toHaveLength(1);
      return { raw: message, view: JSON.parse(data[0]?.slice('data: '.length) ?? '') };
    }
  }
}

describe('the status page and its stream show untrusted text, never act on it', () => {
  it('a shutdown reason with bidi and control characters is shown escaped on the page', async () => {
    current = await shutDownByExchange();
    const page = await request(current.api.url, '/');
    expect(page.status).toBe(200);
    expect(hasForbidden(page.text.replaceAll('\n', ''))).toBe(false);
    expect(page.text.match(/<\/script>/g)).toHaveLength(2);
    const embedded = /<script type="application\/json" id="initial-view">([\s\S]*?)<\/script>/.exec(
      page.text,
    );
    const view = JSON.parse(embedded?.[1] ?? '') as {
      reason: string;
      alerts: { message: string }[];
    };
    expect(view.reason).toBe(displayText(EXCHANGE_ERROR));
    expect(view.reason).toContain('\\r\\n</script><script>alert(1)</script>\\x1b[32mopen\\u202e');
    expect(view.alerts.some((alert) => alert.message.includes('\\u202e'))).toBe(true);
  });

  it('the event stream pushes the same escaped view, one data line per event', async () => {
    current = await shutDownByExchange();
    const { raw, view } = await firstStreamedView(current.api.url);
    expect(hasForbidden(raw.replaceAll('\n', ''))).toBe(false);
    expect((view as { reason: string }).reason).toBe(displayText(EXCHANGE_ERROR));
  });

  it('the JSON endpoints keep the exact text', async () => {
    current = await shutDownByExchange();
    const status = await request(current.api.url, '/api/health/status');
    expect((status.json().authorization as { reason: string }).reason).toContain(EXCHANGE_ERROR);
  });

  it('the page script builds no HTML from the view: textContent and dataset only', async () => {
    current = await apiIn('AGGRESSIVE');
    const page = await request(current.api.url, '/');
    const scripts = [...page.text.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    expect(scripts).toHaveLength(1);
    const script = scripts[0] ?? '';
    expect(script).toContain('textContent');
    for (const sink of [
      'innerHTML',
      'outerHTML',
      'insertAdjacentHTML',
      'document.write',
      'eval(',
    ]) {
      expect(script).not.toContain(sink);
    }
  });

  it('displayView escapes every string of a view, in arrays and nested objects, and nothing else', () => {
    const view = {
      mode: 'SHUTDOWN',
      count: 3,
      gateOpen: false,
      none: null,
      reasons: ['a\nb', 'ok'],
      nested: { deeper: [{ text: '\u202e' }] },
    };
    expect(displayView(view)).toEqual({
      mode: 'SHUTDOWN',
      count: 3,
      gateOpen: false,
      none: null,
      reasons: ['a\\nb', 'ok'],
      nested: { deeper: [{ text: '\\u202e' }] },
    });
  });
});
