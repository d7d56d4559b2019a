/**
 * Goal: `/metrics` is valid Prometheus exposition (`promtool check metrics` passes), carries
 * every governor metric with the type, labels and HELP docs/http-api.md documents, computes
 * values at scrape time, and includes the default process metrics. Its counters, for alerting on
 * governor itself, start at 0 and count what happened: transitions by from and to, fail-safe
 * triggers by trigger, alerts raised by kind, delivery attempts by sink and outcome, watchdog
 * beats; the outbox depth is read by sink and status; the scrub's progress is there; with the
 * fleet authority, the NOTIFY queue usage its lease's last renewal read.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { governorMachine } from '../../../machines/governor-machine.js';
import {
  FLEET_METRICS,
  GOVERNOR_METRICS,
  type GovernorMetricName,
  MODE_TRANSITIONS,
} from '../../../services/api/metrics.js';
import { startApiServer } from '../../../services/api/server.js';
import { SystemClock } from '../../../services/clock.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { diagramOf } from '../../../visualizations/governor-diagram.js';
import { FakeVenue } from '../../support/fake-venue.js';
import { advanceBy, FakeAuthority, settleOn } from '../../support/fleet-fake.js';
import { makeHarness, settle } from '../../support/harness.js';
import { type ApiHarness, apiIn, apiWithSinks, request, type SinksHarness } from './api-support.js';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const hasPromtool = promtool.status === 0;

let current: ApiHarness | undefined;
let withSinks: SinksHarness | undefined;
afterEach(async () => {
  await current?.cleanup();
  current = undefined;
  await withSinks?.cleanup();
  withSinks = undefined;
});

async function governorWithSinks(): Promise<SinksHarness> {
  withSinks = await apiWithSinks();
  return withSinks;
}

/** The value of one sample (`name{labels} value`), or undefined when it is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it.skipIf(!hasPromtool)(
    'passes promtool check metrics in AGGRESSIVE, in SHUTDOWN, and with sinks, failures and a watchdog',
    async () => {
      const texts: Array<[string, string]> = [];
      for (const state of ['AGGRESSIVE', 'SHUTDOWN'] as const) {
        current = await apiIn(state);
        texts.push([state, (await request(current.api.url, '/metrics')).text]);
        await current.cleanup();
        current = undefined;
      }
      const { gov, api } = await governorWithSinks();
      await gov.runStartupChecks();
      gov.failSafeManager.triggerShutdown('MARKET_DATA_STALL', 'metrics test');
      await gov.alertManager.flush();
      texts.push(['sinks', (await request(api.url, '/metrics')).text]);
      for (const [label, text] of texts) {
        const check = spawnSync('promtool', ['check', 'metrics'], {
          input: text,
          encoding: 'utf8',
        });
        expect(`${check.stdout}${check.stderr}`, label).toBe('');
        expect(check.status).toBe(0);
      }
    },
  );

  it.runIf(!hasPromtool)('promtool is absent here: the check is skipped (CI installs it)', () => {
    expect(hasPromtool).toBe(false);
  });

  it('has every governor metric with its documented type, labels and HELP, plus default process metrics', async () => {
    const { gov, api } = await governorWithSinks();
    await gov.runStartupChecks();
    const { text } = await request(api.url, '/metrics');
    const docs = readFileSync(join(process.cwd(), 'docs', 'http-api.md'), 'utf8');
    for (const [name, spec] of Object.entries(GOVERNOR_METRICS)) {
      // The fleet's metrics need the authority option (their own test below).
      if (FLEET_METRICS.includes(name as GovernorMetricName)) {
        expect(text).not.toContain(`# TYPE ${name} `);
      } else {
        expect(text).toContain(`# HELP ${name} ${spec.help}\n`);
        expect(text).toContain(`# TYPE ${name} ${spec.type}\n`);
      }
      // Per-venue series exist only with venues registered (a test below).
      if (!name.startsWith('governor_venue_') && !name.startsWith('governor_fleet_')) {
        expect(text, `${name} has a sample`).toMatch(new RegExp(`^${name}[{ ]`, 'm'));
      }
      if (spec.type === 'counter') expect(name).toMatch(/_total$/);
      else expect(name).not.toMatch(/_total$/);
      const row = docs.split('\n').find((line) => line.startsWith(`| \`${name}\``));
      expect(row, `docs/http-api.md documents ${name}`).toBeDefined();
      expect(row, `docs/http-api.md quotes the HELP of ${name}`).toContain(spec.help);
      expect(row, `docs/http-api.md gives the type of ${name}`).toContain(`| ${spec.type} `);
      for (const label of spec.labels)
        expect(row, `${name} label ${label}`).toContain(`\`${label}\``);
    }
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/^governor_build_info\{version="\d+\.\d+\.\d+",node_version="v\d+/m);
  });

  it('computes values at scrape time: ages grow, alerts and head seq follow the database', async () => {
    current = await apiIn('STARTING');
    const first = (await request(current.api.url, '/metrics')).text;
    expect(first).toContain('governor_heartbeat_age_seconds +Inf\n');
    expect(first).toContain('governor_input_age_seconds{input="market_data"} 0\n');
    current.h.clock.skip(2_500);
    current.h.gov.healthMonitor.recordError();
    current.h.gov.operatorShutdown({ operator: 'alice', reason: 'metrics test' });
    const second = (await request(current.api.url, '/metrics')).text;
    expect(second).toContain('governor_input_age_seconds{input="market_data"} 2.5\n');
    expect(second).toContain('governor_error_rate_per_minute 1\n');
    expect(second).toContain('governor_mode{state="SHUTDOWN"} 1\n');
    expect(second).toContain('governor_alerts_unacknowledged{severity="CRITICAL"} 1\n');
    const head = current.h.gov.engine.events.head()?.seq ?? 0;
    expect(head).toBeGreaterThan(0);
    expect(second).toContain(`governor_event_log_head_seq ${head}\n`);
    expect(second).toContain('governor_uptime_seconds 2.5\n');
    expect(second).toContain(
      `governor_heartbeat_loss_threshold_seconds ${current.h.gov.thresholds.heartbeatLossMs / 1_000}\n`,
    );
    expect(second).toContain('governor_desired_mode{mode="AGGRESSIVE"} 1\n');
  });

  it('counters start at 0 and count transitions by from and to, triggers by trigger, alerts by kind', async () => {
    current = await apiIn('STARTING');
    const { url } = current.api;
    const gov = current.h.gov;
    const before = (await request(url, '/metrics')).text;
    for (const [from, to] of MODE_TRANSITIONS) {
      expect(sample(before, `governor_mode_transitions_total{from="${from}",to="${to}"}`)).toBe(0);
    }
    expect(sample(before, 'governor_failsafe_triggers_total{trigger="MARKET_DATA_STALL"}')).toBe(0);
    expect(sample(before, 'governor_alerts_raised_total{kind="SHUTDOWN"}')).toBe(0);

    await gov.runStartupChecks();
    gov.failSafeManager.triggerShutdown('MARKET_DATA_STALL', 'feed stalled');
    await settle();
    gov.healthMonitor.updateMarketDataTimestamp();
    gov.operatorRestart({ operator: 'ann', reason: 'feed back' });
    await gov.runStartupChecks();
    gov.operatorShutdown({ operator: 'ann', reason: 'end of day' });
    await settle();

    const after = (await request(url, '/metrics')).text;
    const transitions = (from: string, to: string) =>
      sample(after, `governor_mode_transitions_total{from="${from}",to="${to}"}`);
    expect(transitions('STARTING', 'CHECKING')).toBe(2);
    expect(transitions('CHECKING', 'AGGRESSIVE')).toBe(2);
    expect(transitions('AGGRESSIVE', 'SHUTDOWN')).toBe(2);
    expect(transitions('SHUTDOWN', 'STARTING')).toBe(1);
    expect(transitions('CHECKING', 'OBSERVE_ONLY')).toBe(0);
    expect(sample(after, 'governor_failsafe_triggers_total{trigger="MARKET_DATA_STALL"}')).toBe(1);
    expect(sample(after, 'governor_failsafe_triggers_total{trigger="OPERATOR_KILL"}')).toBe(1);
    expect(sample(after, 'governor_failsafe_triggers_total{trigger="CAPITAL_INCONSISTENT"}')).toBe(
      0,
    );
    expect(sample(after, 'governor_alerts_raised_total{kind="SHUTDOWN"}')).toBe(2);
    expect(sample(after, 'governor_alerts_raised_total{kind="HEARTBEAT_LOSS"}')).toBe(0);
  });

  it('counts delivery attempts by sink and outcome, abandoned deliveries, outbox rows by sink and status, watchdog beats', async () => {
    const { gov, api } = await governorWithSinks();
    await gov.runStartupChecks();
    const before = (await request(api.url, '/metrics')).text;
    for (const sink of ['webhook', 'pager', 'alertmanager']) {
      for (const outcome of ['success', 'failure']) {
        expect(
          sample(
            before,
            `governor_alert_delivery_attempts_total{sink="${sink}",outcome="${outcome}"}`,
          ),
        ).toBe(0);
      }
      for (const status of ['pending', 'delivered', 'failed']) {
        expect(
          sample(before, `governor_alert_outbox_rows{sink="${sink}",status="${status}"}`),
        ).toBe(0);
      }
    }

    gov.failSafeManager.triggerShutdown('MARKET_DATA_STALL', 'metrics test');
    await gov.alertManager.flush();
    const after = (await request(api.url, '/metrics')).text;
    const attempts = (sink: string, outcome: string) =>
      sample(after, `governor_alert_delivery_attempts_total{sink="${sink}",outcome="${outcome}"}`);
    expect(attempts('webhook', 'success')).toBe(1);
    expect(attempts('webhook', 'failure')).toBe(0);
    expect(attempts('pager', 'success')).toBe(0);
    expect(attempts('pager', 'failure')).toBe(1);
    expect(sample(after, 'governor_alert_deliveries_abandoned_total{sink="pager"}')).toBe(1);
    expect(sample(after, 'governor_alert_deliveries_abandoned_total{sink="webhook"}')).toBe(0);
    expect(sample(after, 'governor_alert_deliveries_dropped_total')).toBe(0);
    expect(sample(after, 'governor_alert_outbox_rows{sink="webhook",status="delivered"}')).toBe(1);
    expect(sample(after, 'governor_alert_outbox_rows{sink="pager",status="failed"}')).toBe(1);
    expect(sample(after, 'governor_alert_outbox_rows{sink="pager",status="pending"}')).toBe(0);

    expect(
      sample(after, 'governor_watchdog_beats_total{sink="alertmanager",outcome="success"}'),
    ).toBe(3);
    expect(
      sample(after, 'governor_watchdog_beats_total{sink="alertmanager",outcome="failure"}'),
    ).toBe(1);
    expect(sample(after, 'governor_watchdog_interval_seconds{sink="alertmanager"}')).toBe(60);
    expect(
      sample(after, 'governor_watchdog_last_success_timestamp_seconds{sink="alertmanager"}'),
    ).toBe(1_765_000_000);
    expect(after).not.toContain('governor_watchdog_beats_total{sink="webhook"');
  });

  it('reports the background scrub: running, its pass and its progress', async () => {
    current = await apiIn('AGGRESSIVE');
    const text = (await request(current.api.url, '/metrics')).text;
    const progress = current.h.gov.scrubProgress();
    expect(sample(text, 'governor_integrity_scrub_running')).toBe(progress.running ? 1 : 0);
    expect(sample(text, 'governor_integrity_scrub_events_checked')).toBe(progress.rowsChecked);
    expect(sample(text, 'governor_integrity_scrub_events_in_pass')).toBe(progress.rowsInPass);
    expect(sample(text, 'governor_integrity_scrub_passes_completed_total')).toBe(
      progress.passesCompleted,
    );
  });

  it('the transitions counted from the start are the statechart’s edges between states, and a restart', () => {
    const edges = new Set(
      diagramOf(governorMachine)
        .transitions.filter((t) => t.from !== t.to && t.from !== '__initial')
        .map((t) => `${t.from}->${t.to}`),
    );
    edges.add('SHUTDOWN->STARTING');
    expect(new Set(MODE_TRANSITIONS.map(([from, to]) => `${from}->${to}`))).toEqual(edges);
  });

  it("shows the fleet authority's NOTIFY queue usage as the last renewal read it; absent without the authority", async () => {
    const h = makeHarness();
    h.gov.close();
    const authority = new FakeAuthority(h.clock);
    authority.queueUsage = 0.25;
    const gov = h.reopen({
      authority: { host: 'host-1', scopes: ['firm/desk-a'], leaseMs: 900, transport: authority },
    });
    const api = await startApiServer({ governance: gov });
    try {
      expect(await settleOn(h.clock, gov.runStartupChecks())).toBe(true);
      const first = (await request(api.url, '/metrics')).text;
      for (const name of FLEET_METRICS) {
        expect(first).toContain(`# HELP ${name} ${GOVERNOR_METRICS[name].help}\n`);
        expect(first).toContain(`# TYPE ${name} ${GOVERNOR_METRICS[name].type}\n`);
      }
      expect(sample(first, 'governor_fleet_notification_queue_usage_ratio')).toBe(0.25);
      // The next renewal (every leaseMs / 3) reads the new figure.
      authority.queueUsage = 0.625;
      await advanceBy(h.clock, 400);
      const second = (await request(api.url, '/metrics')).text;
      expect(sample(second, 'governor_fleet_notification_queue_usage_ratio')).toBe(0.625);
      expect(gov.authorityLease()?.notificationQueueUsage).toBe(0.625);
      if (hasPromtool) {
        const check = spawnSync('promtool', ['check', 'metrics'], {
          input: second,
          encoding: 'utf8',
        });
        expect(`${check.stdout}${check.stderr}`).toBe('');
        expect(check.status).toBe(0);
      }
    } finally {
      await api.close();
      h.cleanup();
    }
    current = await apiIn('AGGRESSIVE');
    const without = (await request(current.api.url, '/metrics')).text;
    expect(without).not.toContain('governor_fleet_notification_queue_usage_ratio');
  });

  it('shows per venue the open orders, flatness, last cancel latency and dead man switch expiry', async () => {
    const clock = new SystemClock();
    const venue = new FakeVenue({ name: 'kraken', clock, openOrders: 4 });
    const dir = mkdtempSync(join(tmpdir(), 'governor-venue-metrics-'));
    const gov = new GovernanceSystem({ dbPath: join(dir, 'governor.db'), venues: [venue] });
    const api = await startApiServer({ governance: gov });
    try {
      expect(await gov.runStartupChecks()).toBe(true);
      gov.operatorShutdown({ operator: 'olga', reason: 'metrics test' });
      for (let i = 0; i < 100 && gov.venueStatus()[0]?.flat !== true; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const { text } = await request(api.url, '/metrics');
      expect(sample(text, 'governor_venue_open_orders{venue="kraken"}')).toBe(0);
      expect(sample(text, 'governor_venue_flat{venue="kraken"}')).toBe(1);
      expect(
        sample(text, 'governor_venue_cancel_latency_seconds{venue="kraken"}'),
      ).toBeGreaterThanOrEqual(0);
      const expiry = sample(
        text,
        'governor_venue_dead_mans_switch_expiry_timestamp_seconds{venue="kraken"}',
      );
      expect(expiry).toBeGreaterThan(Date.now() / 1_000);
    } finally {
      await api.close();
      gov.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
