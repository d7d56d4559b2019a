/**
 * The Prometheus metrics of `GET /metrics`: governor's gauges, set at scrape time from one
 * status reading (the same projection the status page shows), its counters (transitions,
 * fail-safe triggers and alerts counted from the governor's events; deliveries, watchdog beats
 * and scrub passes from its counters since start; the fleet authority's NOTIFY queue usage as
 * the lease's last renewal read it), and the default process and Node.js metrics from one
 * registry shared by every server in the process. Which metrics exist (name, type, labels,
 * HELP text) is metrics-catalogue.ts; this file registers them and sets their values.
 */
import { readFileSync } from 'node:fs';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { LIFECYCLE_STATES, MODES, SHUTDOWN_TRIGGERS } from '../../machines/types.js';
import type { GovernanceSystem } from '../governor/governance-system.js';
import type { GovernorStatus } from '../governor/status.js';
import type { DatabaseReader } from './database-reader.js';
import {
  ALERT_KINDS,
  FLEET_METRICS,
  GOVERNOR_METRICS,
  type GovernorMetricName,
  MODE_TRANSITIONS,
  OUTBOX_SINKS_MAX,
  OUTBOX_STATUSES,
} from './metrics-catalogue.js';

export {
  EVERY_ALERT_KIND_LISTED,
  FLEET_METRICS,
  GOVERNOR_METRICS,
  type GovernorMetricName,
  MODE_TRANSITIONS,
  OUTBOX_SINKS_MAX,
} from './metrics-catalogue.js';

/**
 * Default gauges whose names end in `_total`, which Prometheus reserves for counters
 * (`promtool check metrics` rejects them); the same figures remain without the suffix
 * (`nodejs_active_handles`, `nodejs_active_resources`) or in `process_*` metrics.
 */
const NONCONFORMING_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

let sharedDefaults: Registry | null = null;

/** The default metrics, registered once per process: their collectors never stop. */
function defaultMetricsRegistry(): Registry {
  if (sharedDefaults === null) {
    sharedDefaults = new Registry();
    collectDefaultMetrics({ register: sharedDefaults });
    for (const name of NONCONFORMING_DEFAULT_METRICS) sharedDefaults.removeSingleMetric(name);
  }
  return sharedDefaults;
}

/** Where package.json is, from the source tree and from the built package (dist/). */
const PACKAGE_CANDIDATES = [
  new URL('../../package.json', import.meta.url),
  new URL('../../../package.json', import.meta.url),
];

/** The governor's version from its package.json, or `unknown`. */
export function governorVersion(): string {
  for (const url of PACKAGE_CANDIDATES) {
    try {
      const parsed = JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown };
      if (typeof parsed.version === 'string' && parsed.version.length <= 64) return parsed.version;
    } catch {}
  }
  return 'unknown';
}

export interface ApiMetrics {
  readonly contentType: string;
  /** The exposition text: governor's metrics, then the default metrics. */
  render(): Promise<string>;
  /** Stops counting the governor's events. */
  close(): void;
}

type Gauges = { [N in GovernorMetricName]: Gauge<string> | Counter<string> };

function register(registry: Registry): Gauges {
  const entries = Object.entries(GOVERNOR_METRICS).map(([name, spec]) => {
    const config = { name, help: spec.help, labelNames: spec.labels, registers: [registry] };
    return [name, spec.type === 'gauge' ? new Gauge(config) : new Counter(config)] as const;
  });
  return Object.fromEntries(entries) as Gauges;
}

/** A counter that mirrors a count kept elsewhere (since the governor started). */
function mirror(
  metric: Gauge<string> | Counter<string>,
  values: ReadonlyArray<[Record<string, string>, number]>,
): void {
  metric.reset();
  for (const [labels, value] of values) {
    if (metric instanceof Counter) metric.inc(labels, value);
    else metric.set(labels, value);
  }
}

function gaugeOf(metric: Gauge<string> | Counter<string>): Gauge<string> {
  if (!(metric instanceof Gauge)) throw new TypeError('Expected a gauge');
  return metric;
}

function counterOf(metric: Gauge<string> | Counter<string>): Counter<string> {
  if (!(metric instanceof Counter)) throw new TypeError('Expected a counter');
  return metric;
}

const seconds = (ms: number | null): number => (ms === null ? 0 : ms / 1_000);

/**
 * Outbox rows by sink and status: every configured sink and every sink named in the outbox (up
 * to OUTBOX_SINKS_MAX), each with all three statuses (0 when it has no such row).
 */
function outboxRows(
  configured: readonly string[],
  reader: DatabaseReader,
): Array<[Record<string, string>, number]> {
  const counts = new Map<string, Record<(typeof OUTBOX_STATUSES)[number], number>>();
  const zero = () => ({ pending: 0, delivered: 0, failed: 0 });
  for (const sink of configured) counts.set(sink, zero());
  for (const row of reader.outboxCounts()) {
    let sink = counts.get(row.sink);
    if (sink === undefined) {
      if (counts.size >= OUTBOX_SINKS_MAX) continue;
      sink = zero();
      counts.set(row.sink, sink);
    }
    sink[row.status] = row.count;
  }
  return [...counts].flatMap(([sink, byStatus]) =>
    OUTBOX_STATUSES.map((status): [Record<string, string>, number] => [
      { sink, status },
      byStatus[status],
    ]),
  );
}

export function createMetrics(governance: GovernanceSystem, reader: DatabaseReader): ApiMetrics {
  const registry = new Registry();
  const defaults = defaultMetricsRegistry();
  const m = register(registry);
  const version = governorVersion();
  // Without the `authority` option (fixed for the governor's life) the fleet's metrics are
  // absent altogether, not 0: a series without labels always has a sample once registered.
  if (governance.authorityLease() === null) {
    for (const name of FLEET_METRICS) registry.removeSingleMetric(name);
  }

  const transitions = counterOf(m.governor_mode_transitions_total);
  const triggers = counterOf(m.governor_failsafe_triggers_total);
  const raised = counterOf(m.governor_alerts_raised_total);
  for (const [from, to] of MODE_TRANSITIONS) transitions.inc({ from, to }, 0);
  for (const trigger of SHUTDOWN_TRIGGERS) triggers.inc({ trigger }, 0);
  for (const kind of ALERT_KINDS) raised.inc({ kind }, 0);
  const unsubscribe = [
    governance.onModeChange((change) => {
      transitions.inc({ from: change.from, to: change.to });
      if (change.to === 'SHUTDOWN' && change.trigger !== null) {
        triggers.inc({ trigger: change.trigger });
      }
    }),
    governance.onAlert((alert) => raised.inc({ kind: alert.kind })),
  ];

  const update = (status: GovernorStatus): void => {
    gaugeOf(m.governor_build_info).set({ version, node_version: process.version }, 1);
    const state = status.state;
    for (const each of LIFECYCLE_STATES) {
      gaugeOf(m.governor_mode).set({ state: each }, each === state ? 1 : 0);
    }
    for (const mode of MODES) {
      gaugeOf(m.governor_desired_mode).set({ mode }, mode === status.desiredMode ? 1 : 0);
    }
    gaugeOf(m.governor_gate_open).set(status.canDeployCapital ? 1 : 0);
    const health = status.health;
    gaugeOf(m.governor_healthy).set(health?.healthy === true ? 1 : 0);
    gaugeOf(m.governor_heartbeat_age_seconds).set(
      status.heartbeatAgeMs === null ? Number.POSITIVE_INFINITY : status.heartbeatAgeMs / 1_000,
    );
    gaugeOf(m.governor_heartbeat_loss_threshold_seconds).set(seconds(status.heartbeatLossMs));
    gaugeOf(m.governor_error_rate_per_minute).set(health?.errorRate ?? 0);
    const ages = gaugeOf(m.governor_input_age_seconds);
    ages.set({ input: 'market_data' }, seconds(health?.marketDataAgeMs ?? null));
    ages.set({ input: 'event_log_write' }, seconds(health?.eventLogWriteAgeMs ?? null));
    ages.set({ input: 'snapshot_write' }, seconds(health?.snapshotWriteAgeMs ?? null));
    for (const [severity, count] of Object.entries(status.unacknowledgedAlertsBySeverity)) {
      gaugeOf(m.governor_alerts_unacknowledged).set({ severity }, count);
    }
    gaugeOf(m.governor_event_log_head_seq).set(status.eventLogHead?.seq ?? 0);
    gaugeOf(m.governor_uptime_seconds).set(seconds(health?.uptimeMs ?? null));
    updateVenues(m, status);
    updateFleet(m, governance);
  };

  const updateDeliveries = (): void => {
    const sinks = governance.alertManager.sinkStats();
    mirror(
      m.governor_alert_delivery_attempts_total,
      sinks.flatMap((s) => [
        [{ sink: s.sink, outcome: 'success' }, s.delivered],
        [{ sink: s.sink, outcome: 'failure' }, s.failed],
      ]),
    );
    mirror(
      m.governor_alert_deliveries_abandoned_total,
      sinks.map((s) => [{ sink: s.sink }, s.abandoned]),
    );
    mirror(m.governor_alert_deliveries_dropped_total, [
      [{}, governance.alertManager.deliveryStats().dropped],
    ]);
    mirror(
      m.governor_alert_outbox_rows,
      outboxRows(
        sinks.map((s) => s.sink),
        reader,
      ),
    );
    const watchdogs = sinks.flatMap((s) =>
      s.watchdog === null ? [] : [{ sink: s.sink, ...s.watchdog }],
    );
    mirror(
      m.governor_watchdog_beats_total,
      watchdogs.flatMap((w) => [
        [{ sink: w.sink, outcome: 'success' }, w.beatsSucceeded],
        [{ sink: w.sink, outcome: 'failure' }, w.beatsFailed],
      ]),
    );
    mirror(
      m.governor_watchdog_last_success_timestamp_seconds,
      watchdogs.map((w) => [{ sink: w.sink }, seconds(w.lastSuccessWallMs)]),
    );
    mirror(
      m.governor_watchdog_interval_seconds,
      watchdogs.map((w) => [{ sink: w.sink }, w.intervalMs / 1_000]),
    );
  };

  const updateScrub = (): void => {
    const scrub = governance.scrubProgress();
    gaugeOf(m.governor_integrity_scrub_running).set(scrub.running ? 1 : 0);
    gaugeOf(m.governor_integrity_scrub_events_checked).set(scrub.rowsChecked);
    gaugeOf(m.governor_integrity_scrub_events_in_pass).set(scrub.rowsInPass);
    mirror(m.governor_integrity_scrub_passes_completed_total, [[{}, scrub.passesCompleted]]);
    const completed =
      scrub.lastPassCompletedAt === null ? 0 : Date.parse(scrub.lastPassCompletedAt) / 1_000;
    gaugeOf(m.governor_integrity_scrub_last_pass_completed_timestamp_seconds).set(completed);
  };

  return {
    contentType: registry.contentType,
    render: async () => {
      update(governance.status());
      updateDeliveries();
      updateScrub();
      return `${await registry.metrics()}${await defaults.metrics()}`;
    },
    close: () => {
      for (const remove of unsubscribe) remove();
    },
  };
}

/** The fleet authority's gauges (registered only with the `authority` option). */
function updateFleet(m: Gauges, governance: GovernanceSystem): void {
  const lease = governance.authorityLease();
  if (lease === null) return;
  gaugeOf(m.governor_fleet_notification_queue_usage_ratio).set(lease.notificationQueueUsage);
}

/** The per-venue gauges: a venue's series exists only while governor knows its value. */
function updateVenues(m: Gauges, status: GovernorStatus): void {
  const openOrders = gaugeOf(m.governor_venue_open_orders);
  const flat = gaugeOf(m.governor_venue_flat);
  const latency = gaugeOf(m.governor_venue_cancel_latency_seconds);
  const expiry = gaugeOf(m.governor_venue_dead_mans_switch_expiry_timestamp_seconds);
  for (const gauge of [openOrders, flat, latency, expiry]) gauge.reset();
  for (const venue of status.venues ?? []) {
    const labels = { venue: venue.name };
    if (venue.openOrders !== null) openOrders.set(labels, venue.openOrders);
    if (venue.flat !== null) flat.set(labels, venue.flat ? 1 : 0);
    if (venue.lastCancelLatencyMs !== null) latency.set(labels, venue.lastCancelLatencyMs / 1_000);
    const expiresAtMs =
      venue.deadMansSwitchExpiresAt === null
        ? Number.NaN
        : Date.parse(venue.deadMansSwitchExpiresAt);
    if (Number.isFinite(expiresAtMs)) expiry.set(labels, expiresAtMs / 1_000);
  }
}
