/**
 * Goal: what Alertmanager receives routes and dedups well. `dedup_key` is a stable identifier of
 * the incident without a timestamp (the same on every re-delivery, on the resolve, and from the
 * next process over the database), `trigger` is a label, `instance` stays unique when two
 * governors share a host and stable across restarts, annotations are snake_case, and every
 * `runbook_url` lands on an anchor of docs/operations.md.
 */
import { readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SHUTDOWN_TRIGGERS } from '../../../machines/types.js';
import { governorInstance, INSTANCE_CHARS_MAX } from '../../../services/alerts/instance.js';
import {
  alertmanagerDedupLabel,
  alertmanagerPayload,
  alertmanagerSink,
  RUNBOOK_URL_DEFAULT,
  runbookAnchor,
} from '../../../services/alerts/sinks/alertmanager-sink.js';
import { ALERT_KINDS, type GovernorAlert } from '../../../services/alerts/types.js';
import { SimulatedClock } from '../../../services/clock.js';
import { isGovernorError } from '../../../services/errors.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { tempDir } from '../../support/harness.js';
import { type Receiver, startReceiver } from './support.js';

interface Posted {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly endsAt: string;
}

let receiver: Receiver | undefined;
const open: GovernanceSystem[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const gov of open.splice(0)) gov.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  await receiver?.close();
  receiver = undefined;
});

function governor(dbPath: string, clock: SimulatedClock, url: string): GovernanceSystem {
  const gov = new GovernanceSystem({ dbPath, clock, alertSinks: [alertmanagerSink({ url })] });
  open.push(gov);
  return gov;
}

function posted(r: Receiver): Posted[] {
  return r.received.flatMap((request) => request.body as Posted[]);
}

describe('Alertmanager labels and annotations', () => {
  it('dedup_key is the same on the alert, on its resolve by the next process, and carries no timestamp', async () => {
    receiver = await startReceiver();
    const dir = tempDir();
    dirs.push(dir);
    const dbPath = join(dir, 'governor.db');
    const clock = new SimulatedClock({ wallStartMs: Date.parse('2026-03-01T09:30:00.000Z') });
    const first = governor(dbPath, clock, receiver.url);
    await first.runStartupChecks();
    first.failSafeManager.triggerShutdown('MARKET_DATA_STALL', 'feed stalled');
    await first.alertManager.flush();
    const incidentKey = first.alertManager.getAlerts()[0]?.dedupKey ?? '';
    expect(incidentKey).toMatch(/^shutdown:2026-03-01T09:30:00\.000Z:MARKET_DATA_STALL$/);
    first.close();
    open.splice(open.indexOf(first), 1);

    clock.skip(60_000);
    const next = governor(dbPath, clock, receiver.url);
    next.operatorRestart({ operator: 'ann', reason: 'feed reconnected' });
    await next.alertManager.flush();

    const [firing, resolved] = posted(receiver);
    expect(firing?.labels).toEqual({
      alertname: 'GovernorShutdown',
      severity: 'critical',
      kind: 'SHUTDOWN',
      trigger: 'MARKET_DATA_STALL',
      instance: `${hostname()}:${dbPath}`,
      dedup_key: alertmanagerDedupLabel(incidentKey),
      service: 'governor',
    });
    expect(firing?.labels.dedup_key).toMatch(/^[0-9a-f]{16}$/);
    expect(resolved?.labels).toEqual(firing?.labels);
    expect(Date.parse(resolved?.endsAt ?? '')).toBe(clock.wallNow());
    expect(Object.keys(firing?.annotations ?? {}).sort()).toEqual([
      'alert_id',
      'description',
      'incident_key',
      'recommended_action',
      'root_cause',
      'runbook_url',
      'summary',
    ]);
    expect(firing?.annotations.incident_key).toBe(incidentKey);
    expect(firing?.annotations.runbook_url).toBe(
      'docs/operations.md#alert-shutdown-market-data-stall',
    );
  });

  it('a second governor on the same host gets an instance of its own; the same database keeps its name', async () => {
    receiver = await startReceiver();
    const dir = tempDir();
    dirs.push(dir);
    const clock = new SimulatedClock();
    for (const name of ['a.db', 'b.db']) {
      const gov = governor(join(dir, name), clock, receiver.url);
      gov.operatorShutdown({ operator: 'ann', reason: `stop ${name}` });
      await gov.alertManager.flush();
    }
    const instances = posted(receiver).map((alert) => alert.labels.instance);
    expect(instances).toEqual([
      `${hostname()}:${join(dir, 'a.db')}`,
      `${hostname()}:${join(dir, 'b.db')}`,
    ]);
    expect(governorInstance(join(dir, 'a.db'))).toBe(instances[0]);
    expect(governorInstance('a.db')).toBe(`${hostname()}:${join(process.cwd(), 'a.db')}`);
  });

  it('an instance given in the configuration wins; a long path is shortened to a digest', () => {
    const alert = { kind: 'HEARTBEAT_LOSS', metadata: {} } as unknown as GovernorAlert;
    expect(runbookAnchor(alert)).toBe('alert-heartbeat-loss');
    const long = `/${'d'.repeat(400)}/governor.db`;
    const name = governorInstance(long, 'trader-1');
    expect(name.length).toBeLessThanOrEqual(INSTANCE_CHARS_MAX);
    expect(name).toMatch(/^trader-1:[0-9a-f]{16}$/);
    expect(governorInstance(long, 'trader-1')).toBe(name);
    expect(governorInstance(':memory:', 'trader-1')).toBe(`trader-1:memory:${process.pid}`);
  });

  it('runbookUrl prefixes the anchor; a URL with a fragment or spaces is refused', () => {
    const alert: GovernorAlert = {
      alertId: 'a-1',
      timestamp: new Date(0),
      severity: 'CRITICAL',
      title: 't',
      message: 'm',
      rootCause: 'r',
      recommendedAction: 'a',
      metadata: { trigger: 'OPERATOR_KILL' },
      acknowledged: false,
      kind: 'SHUTDOWN',
      dedupKey: 'shutdown:1970-01-01T00:00:00.000Z:OPERATOR_KILL',
      acknowledgedBy: null,
      acknowledgedAt: null,
      resolvedAt: null,
    };
    const [payload] = alertmanagerPayload(alert, {
      instance: 'i',
      endsAt: new Date(1),
      runbookUrl: 'https://git.example/governor/blob/main/docs/operations.md',
    });
    expect(payload?.annotations.runbook_url).toBe(
      'https://git.example/governor/blob/main/docs/operations.md#alert-shutdown-operator-kill',
    );
    for (const runbookUrl of ['https://x/ops.md#a', 'docs/operations .md', '']) {
      try {
        alertmanagerSink({ url: 'http://127.0.0.1:9093', runbookUrl });
        throw new Error(`accepted ${runbookUrl}`);
      } catch (error) {
        expect(isGovernorError(error, 'GOV_INVALID_CONFIG'), runbookUrl).toBe(true);
      }
    }
  });

  it('every alert kind and shutdown trigger has its runbook anchor in docs/operations.md', () => {
    const operations = readFileSync(join(process.cwd(), 'docs', 'operations.md'), 'utf8');
    expect(RUNBOOK_URL_DEFAULT).toBe('docs/operations.md');
    const alerts = [
      ...ALERT_KINDS.map((kind) => ({ kind, metadata: {} })),
      ...SHUTDOWN_TRIGGERS.map((trigger) => ({ kind: 'SHUTDOWN', metadata: { trigger } })),
    ] as unknown as GovernorAlert[];
    for (const alert of alerts) {
      const anchor = runbookAnchor(alert);
      expect(operations, anchor).toContain(`<a id="${anchor}"></a>`);
    }
  });
});
