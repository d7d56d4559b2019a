/**
 * The Prometheus metrics of `GET /metrics`: governor's gauges in a registry of the server's
 * own, each computed at scrape time by its `collect()`, followed by the default process and
 * Node.js metrics from one registry shared by every server in the process.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { LIFECYCLE_STATES } from '../../machines/types.js';
import type { GovernanceSystem } from '../governor/governance-system.js';
import type { DatabaseReader } from './database-reader.js';
import { unacknowledgedAlerts } from './health-views.js';

/** One HELP text per metric name: docs/http-api.md lists the same (a test compares them). */
export const GOVERNOR_METRICS = {
  governor_mode: '1 for the lifecycle state the governor is in, 0 for the other states.',
  governor_gate_open: '1 while canDeployCapital() is true (capital may be deployed), else 0.',
  governor_healthy: '1 while every rule of the System Health Monitor holds, else 0.',
  governor_heartbeat_age_seconds:
    'Seconds since the last successful heartbeat (+Inf before the first one).',
  governor_error_rate_per_minute: 'Errors recorded in the error window, scaled to per minute.',
  governor_input_age_seconds:
    'Seconds since each monitored input was last updated (from process start before the first).',
  governor_alerts_unacknowledged: 'Unacknowledged alerts, by severity.',
  governor_event_log_head_seq: 'Sequence number of the last event in the event log (0 if empty).',
  governor_uptime_seconds: 'Seconds since the GovernanceSystem started (monotonic clock).',
} as const;

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

export interface ApiMetrics {
  readonly contentType: string;
  /** The exposition text: governor's gauges, then the default metrics. */
  render(): Promise<string>;
}

export function createMetrics(governance: GovernanceSystem, reader: DatabaseReader): ApiMetrics {
  const registry = new Registry();
  const defaults = defaultMetricsRegistry();
  const gauge = (
    name: keyof typeof GOVERNOR_METRICS,
    collect: (g: Gauge<string>) => void,
    labelNames: readonly string[] = [],
  ): void => {
    new Gauge({
      name,
      help: GOVERNOR_METRICS[name],
      labelNames,
      registers: [registry],
      collect() {
        collect(this);
      },
    });
  };
  gauge(
    'governor_mode',
    (g) => {
      const mode = governance.getMode();
      for (const state of LIFECYCLE_STATES) g.set({ state }, state === mode ? 1 : 0);
    },
    ['state'],
  );
  gauge('governor_gate_open', (g) => g.set(governance.canDeployCapital() ? 1 : 0));
  gauge('governor_healthy', (g) =>
    g.set(governance.healthMonitor.unhealthyReasons().length === 0 ? 1 : 0),
  );
  gauge('governor_heartbeat_age_seconds', (g) => g.set(governance.heartbeatAgeMs() / 1_000));
  gauge('governor_error_rate_per_minute', (g) =>
    g.set(governance.healthMonitor.errorRatePerMinute()),
  );
  gauge(
    'governor_input_age_seconds',
    (g) => {
      const ages = governance.healthMonitor.ages();
      g.set({ input: 'market_data' }, ages.marketDataAgeMs / 1_000);
      g.set({ input: 'event_log_write' }, ages.eventLogWriteAgeMs / 1_000);
      g.set({ input: 'snapshot_write' }, ages.snapshotWriteAgeMs / 1_000);
    },
    ['input'],
  );
  gauge(
    'governor_alerts_unacknowledged',
    (g) => {
      const { bySeverity } = unacknowledgedAlerts(governance);
      for (const [severity, count] of Object.entries(bySeverity)) g.set({ severity }, count);
    },
    ['severity'],
  );
  gauge('governor_event_log_head_seq', (g) => g.set(reader.eventLogHeadSeq()));
  gauge('governor_uptime_seconds', (g) => g.set(governance.healthMonitor.uptimeMs() / 1_000));
  return {
    contentType: registry.contentType,
    render: async () => `${await registry.metrics()}${await defaults.metrics()}`,
  };
}
