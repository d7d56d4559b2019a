/**
 * Goal: each sink sends the shape its receiver documents (webhook, Slack incoming webhook,
 * PagerDuty Events v2, Alertmanager v2), refuses a bad configuration up front with
 * GOV_INVALID_CONFIG, and never lets a secret (URL path, routing key, header) into an error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import { AlertManager } from '../../../services/alerts/alert-manager.js';
import { resolveDeliveryPolicy } from '../../../services/alerts/delivery-policy.js';
import {
  alertmanagerAlertName,
  alertmanagerDedupLabel,
  alertmanagerEndpoint,
  alertmanagerSink,
} from '../../../services/alerts/sinks/alertmanager-sink.js';
import { pagerDutyDedupKey, pagerDutySink } from '../../../services/alerts/sinks/pagerduty-sink.js';
import { slackPayload, slackSink } from '../../../services/alerts/sinks/slack-sink.js';
import { webhookSink } from '../../../services/alerts/sinks/webhook-sink.js';
import { createStoreAlertRepository } from '../../../services/alerts/store-repository.js';
import type { GovernorAlert } from '../../../services/alerts/types.js';
import { SimulatedClock } from '../../../services/clock.js';
import { isGovernorError } from '../../../services/errors.js';
import { silentLogger } from '../../../services/logger.js';
import { type Receiver, startReceiver } from './support.js';

const alert: GovernorAlert = {
  alertId: '0b9c6f0e-1111-4222-8333-444455556666',
  timestamp: new Date('2026-01-01T00:00:00.000Z'),
  severity: 'CRITICAL',
  title: 'Fail-safe shutdown: market data stalled',
  message: 'no market data for 10 min <!channel> & more',
  rootCause: 'the feed stopped',
  recommendedAction: 'check the feed',
  metadata: { trigger: 'MARKET_DATA_STALL' },
  acknowledged: false,
  kind: 'SHUTDOWN',
  dedupKey: 'shutdown:2026-01-01T00:00:00.000Z:MARKET_DATA_STALL',
  acknowledgedBy: null,
  acknowledgedAt: null,
  resolvedAt: null,
};
const resolved: GovernorAlert = { ...alert, resolvedAt: new Date('2026-01-01T01:00:00.000Z') };

let r: Receiver | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

function invalidConfig(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isGovernorError(error, 'GOV_INVALID_CONFIG')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected GOV_INVALID_CONFIG');
}

describe('payload shapes', () => {
  it('webhook: firing then resolved, the whole alert with ISO dates', async () => {
    r = await startReceiver();
    const sink = webhookSink({ url: r.url, headers: { Authorization: 'Bearer s3cret' } });
    await sink.deliver(alert);
    await sink.resolve?.(resolved);
    expect(r.received.map((x) => (x.body as { status: string }).status)).toEqual([
      'firing',
      'resolved',
    ]);
    expect(r.received[0]?.headers.authorization).toBe('Bearer s3cret');
    expect(r.received[0]?.body).toMatchObject({
      version: 1,
      alert: {
        alertId: alert.alertId,
        timestamp: '2026-01-01T00:00:00.000Z',
        metadata: alert.metadata,
      },
    });
    expect(r.received[1]?.body).toMatchObject({
      alert: { resolvedAt: '2026-01-01T01:00:00.000Z' },
    });
  });

  it('Slack: a text fallback and blocks, with Slack markup escaped', () => {
    const payload = slackPayload(alert, false);
    expect(payload.text).toBe('CRITICAL: Fail-safe shutdown: market data stalled');
    expect(JSON.stringify(payload.blocks)).toContain('&lt;!channel&gt; &amp; more');
    expect(JSON.stringify(payload.blocks)).not.toContain('<!channel>');
    expect(payload.blocks[0]).toMatchObject({ type: 'header' });
    expect(slackPayload(resolved, true).text).toMatch(/^RESOLVED: /);
  });

  it("PagerDuty: the source is by default the governor's instance (two governors on one host differ)", async () => {
    r = await startReceiver();
    const sources: unknown[] = [];
    for (const instance of ['trader-1:/var/lib/a/governor.db', 'trader-1:/var/lib/b/governor.db']) {
      const sink = pagerDutySink({ routingKey: 'R0UTINGKEY', url: r.url });
      sink.start?.({ clock: new SimulatedClock(), logger: silentLogger(), instance });
      await sink.deliver(alert);
      sink.stop?.();
      const body = r.received.at(-1)?.body as { payload: { source: string } } | undefined;
      sources.push(body?.payload.source);
    }
    expect(sources).toEqual(['trader-1:/var/lib/a/governor.db', 'trader-1:/var/lib/b/governor.db']);
  });

  it('PagerDuty: trigger and resolve share a dedup_key of at most 255 characters', async () => {
    r = await startReceiver();
    const sink = pagerDutySink({ routingKey: 'R0UTINGKEY', url: r.url, source: 'gov-1' });
    await sink.deliver(alert);
    await sink.resolve?.(resolved);
    expect(r.received[0]?.body).toEqual({
      routing_key: 'R0UTINGKEY',
      event_action: 'trigger',
      dedup_key: alert.dedupKey,
      payload: {
        summary: `${alert.title}: ${alert.message}`,
        source: 'gov-1',
        severity: 'critical',
        timestamp: '2026-01-01T00:00:00.000Z',
        component: 'governor',
        class: 'SHUTDOWN',
        custom_details: {
          alertId: alert.alertId,
          message: alert.message,
          rootCause: alert.rootCause,
          recommendedAction: alert.recommendedAction,
          metadata: alert.metadata,
        },
      },
    });
    expect(r.received[1]?.body).toEqual({
      routing_key: 'R0UTINGKEY',
      event_action: 'resolve',
      dedup_key: alert.dedupKey,
    });
    const long = 'k'.repeat(1_000);
    expect(pagerDutyDedupKey(long)).toHaveLength(255);
    expect(pagerDutyDedupKey(long)).not.toBe(pagerDutyDedupKey(`${long}x`));
  });

  it('Alertmanager: v2 endpoint, labels and annotations, endsAt in the future until resolved', async () => {
    r = await startReceiver();
    const sink = alertmanagerSink({
      url: `http://127.0.0.1:${r.port}`,
      instance: 'gov-1',
      firingForMs: 3_600_000,
    });
    const clock = new SimulatedClock({ wallStartMs: Date.parse('2026-01-01T00:00:10.000Z') });
    sink.start?.({ clock, logger: silentLogger() });
    await sink.deliver(alert);
    await sink.resolve?.(resolved);
    sink.stop?.();
    expect(r.received.map((x) => x.path)).toEqual(['/api/v2/alerts', '/api/v2/alerts']);
    const [firing] = (r.received[0]?.body ?? []) as Array<Record<string, unknown>>;
    expect(firing).toMatchObject({
      labels: {
        alertname: 'GovernorShutdown',
        severity: 'critical',
        kind: 'SHUTDOWN',
        trigger: 'MARKET_DATA_STALL',
        instance: 'gov-1',
        dedup_key: alertmanagerDedupLabel(alert.dedupKey),
        service: 'governor',
      },
      annotations: {
        summary: alert.title,
        description: alert.message,
        root_cause: alert.rootCause,
        recommended_action: alert.recommendedAction,
        runbook_url: 'docs/operations.md#alert-shutdown-market-data-stall',
        alert_id: alert.alertId,
        incident_key: alert.dedupKey,
      },
      startsAt: '2026-01-01T00:00:00.000Z',
      endsAt: '2026-01-01T01:00:10.000Z',
    });
    const [ended] = (r.received[1]?.body ?? []) as Array<Record<string, unknown>>;
    expect(ended?.endsAt).toBe('2026-01-01T01:00:00.000Z');
    expect(ended?.labels).toEqual(firing?.labels);
    expect(alertmanagerAlertName('HEARTBEAT_LOSS')).toBe('GovernorHeartbeatLoss');
    expect(alertmanagerEndpoint(new URL('http://am:9093/prefix')).href).toBe(
      'http://am:9093/prefix/api/v2/alerts',
    );
    expect(alertmanagerEndpoint(new URL('http://am:9093/api/v2/alerts')).href).toBe(
      'http://am:9093/api/v2/alerts',
    );
  });
});

describe('configuration is checked up front', () => {
  it('refuses missing, malformed, non-http and credential-bearing URLs, and bad timeouts', () => {
    expect(invalidConfig(() => webhookSink({ url: '' }))).toMatch(/url/);
    expect(invalidConfig(() => webhookSink({ url: 'not a url' }))).toMatch(/not a valid URL/);
    expect(invalidConfig(() => slackSink({ url: 'ftp://hooks.example/x' }))).toMatch(
      /http or https/,
    );
    const withPassword = invalidConfig(() => alertmanagerSink({ url: 'http://u:hunter2@am:9093' }));
    expect(withPassword).toMatch(/credentials/);
    expect(withPassword).not.toContain('hunter2');
    expect(invalidConfig(() => webhookSink({ url: 'http://x', timeoutMs: 0 }))).toMatch(
      /timeoutMs/,
    );
    expect(
      invalidConfig(() => webhookSink({ url: 'http://x', headers: { 'bad header': 'v' } })),
    ).toMatch(/header/);
    expect(invalidConfig(() => pagerDutySink({ routingKey: '' }))).toMatch(/routingKey/);
    expect(
      invalidConfig(() => alertmanagerSink({ url: 'http://am', watchdog: { intervalMs: 5 } })),
    ).toMatch(/intervalMs/);
    expect(invalidConfig(() => resolveDeliveryPolicy({ attemptsMax: 0 }))).toMatch(/attemptsMax/);
    expect(
      invalidConfig(() => resolveDeliveryPolicy({ backoffBaseMs: 10_000, backoffMaxMs: 1_000 })),
    ).toMatch(/backoffMaxMs/);
  });

  it('refuses two sinks with the same name (names key the outbox rows)', () => {
    const store = Store.open(':memory:');
    const sinks = [webhookSink({ url: 'http://a/x' }), webhookSink({ url: 'http://b/y' })];
    expect(
      invalidConfig(
        () =>
          new AlertManager(
            createStoreAlertRepository(store),
            new SimulatedClock(),
            silentLogger(),
            sinks,
          ),
      ),
    ).toMatch(/named webhook/);
    store.close();
  });

  it('an error from an unreachable receiver names the origin only, never the path or the key', async () => {
    r = await startReceiver();
    await r.stop();
    const secretPath = `http://127.0.0.1:${r.port}/services/T000/B000/XXXXSECRET`;
    const errors: string[] = [];
    for (const sink of [
      slackSink({ url: secretPath }),
      pagerDutySink({ routingKey: 'PDSECRETKEY', url: secretPath }),
    ]) {
      await Promise.resolve(sink.deliver(alert)).catch((error: Error) =>
        errors.push(error.message),
      );
    }
    expect(errors).toHaveLength(2);
    for (const message of errors) {
      expect(message).toContain(`127.0.0.1:${r.port}`);
      expect(message).not.toMatch(/XXXXSECRET|PDSECRETKEY|services/);
    }
  });
});

describe('a failed delivery says why (was logged as `POST to http://127.0.0.1:9 failed: Error`)', () => {
  /** Long enough for a refusal or a TLS error to arrive first on a loaded machine. */
  const ANSWER_TIMEOUT_MS = 30_000;
  const sinksTo = (url: string, timeoutMs: number) => [
    webhookSink({ url, timeoutMs }),
    slackSink({ url, timeoutMs }),
    pagerDutySink({ routingKey: 'PDSECRETKEY', url, timeoutMs }),
    alertmanagerSink({ url, timeoutMs }),
  ];
  const failures = async (url: string, timeoutMs = ANSWER_TIMEOUT_MS): Promise<string[]> => {
    const messages: string[] = [];
    for (const sink of sinksTo(url, timeoutMs)) {
      await Promise.resolve(sink.deliver(alert)).then(
        () => messages.push('delivered'),
        (error: Error) => {
          expect(isGovernorError(error, 'GOV_ALERT_DELIVERY_FAILED')).toBe(true);
          messages.push(error.message);
        },
      );
    }
    expect(messages).toHaveLength(4);
    return messages;
  };

  it('a refused port: ECONNREFUSED', async () => {
    r = await startReceiver();
    await r.stop();
    for (const message of await failures(`http://127.0.0.1:${r.port}/services/XXXXSECRET`)) {
      expect(message).toMatch(
        new RegExp(`POST to http://127\\.0\\.0\\.1:${r.port} failed: connect ECONNREFUSED`),
      );
      expect(message).not.toMatch(/XXXXSECRET|PDSECRETKEY/);
    }
  });

  it('a port fetch refuses to use (9, discard): bad port', async () => {
    for (const message of await failures('http://127.0.0.1:9/services/XXXXSECRET')) {
      expect(message).toMatch(/POST to http:\/\/127\.0\.0\.1:9 failed: bad port$/);
    }
  });

  it('a receiver that never answers: timed out after the configured timeout', async () => {
    r = await startReceiver();
    r.mode = 'hang';
    for (const message of await failures(`${r.url}/XXXXSECRET`, 200)) {
      expect(message).toMatch(/POST to http:\/\/127\.0\.0\.1:\d+ failed: timed out after 200 ms$/);
    }
  });

  it('a TLS handshake with a plain HTTP server: the TLS error', async () => {
    r = await startReceiver();
    for (const message of await failures(`https://127.0.0.1:${r.port}/XXXXSECRET`)) {
      expect(message).toMatch(/POST to https:\/\/127\.0\.0\.1:\d+ failed: .*(SSL|TLS|ssl|tls)/);
    }
  });

  it('a non-2xx answer: the HTTP status', async () => {
    r = await startReceiver();
    r.mode = { status: 503 };
    for (const message of await failures(`${r.url}/XXXXSECRET`)) {
      expect(message).toMatch(/http:\/\/127\.0\.0\.1:\d+ answered HTTP 503$/);
    }
  });
});
