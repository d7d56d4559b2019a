/**
 * The catalogue of governor's metrics: each metric's name, type, labels and HELP text, the ones
 * only a governor with the fleet authority exposes, and the label values whose series exist from
 * the start (the lifecycle edges, the alert kinds, the outbox statuses, and the bound on outbox
 * sinks). Data only: metrics.ts registers and fills them.
 */
import type { LifecycleState } from '../../machines/types.js';
import type { AlertKind } from '../alerts/types.js';

type MetricType = 'gauge' | 'counter';

interface MetricSpec {
  readonly type: MetricType;
  readonly labels: readonly string[];
  readonly help: string;
}

const gauge = (help: string, ...labels: string[]): MetricSpec => ({ type: 'gauge', labels, help });
const counter = (help: string, ...labels: string[]): MetricSpec => ({
  type: 'counter',
  labels,
  help,
});

/**
 * Every governor metric: its type, labels and HELP text. docs/http-api.md lists the same (a test
 * compares them), and the Grafana dashboard and the Prometheus rules use only these names.
 */
export const GOVERNOR_METRICS = {
  governor_build_info: gauge(
    'Always 1; the labels name the governor version and the Node.js version running it.',
    'version',
    'node_version',
  ),
  governor_mode: gauge(
    '1 for the lifecycle state the governor is in, 0 for the other states.',
    'state',
  ),
  governor_desired_mode: gauge(
    '1 for the mode the governor works towards (AGGRESSIVE or OBSERVE_ONLY), 0 for the other.',
    'mode',
  ),
  governor_gate_open: gauge(
    '1 while canDeployCapital() is true (capital may be deployed), else 0.',
  ),
  governor_healthy: gauge('1 while every rule of the System Health Monitor holds, else 0.'),
  governor_heartbeat_age_seconds: gauge(
    'Seconds since the last successful heartbeat (+Inf before the first one).',
  ),
  governor_heartbeat_loss_threshold_seconds: gauge(
    'The heartbeat is lost (and the gate closes) when its age reaches this many seconds.',
  ),
  governor_error_rate_per_minute: gauge(
    'Errors recorded in the error window, scaled to per minute.',
  ),
  governor_input_age_seconds: gauge(
    'Seconds since each monitored input was last updated (from process start before the first).',
    'input',
  ),
  governor_alerts_unacknowledged: gauge('Unacknowledged alerts, by severity.', 'severity'),
  governor_event_log_head_seq: gauge(
    'Sequence number of the last event in the event log (0 if empty).',
  ),
  governor_uptime_seconds: gauge('Seconds since the GovernanceSystem started (monotonic clock).'),
  governor_venue_open_orders: gauge(
    'Open orders at each registered venue at the last count governor received (absent before the first).',
    'venue',
  ),
  governor_venue_flat: gauge(
    '1 when the venue was confirmed flat since the last SHUTDOWN, 0 while not (yet); absent before any SHUTDOWN.',
    'venue',
  ),
  governor_venue_cancel_latency_seconds: gauge(
    'Latency of the last cancel-all the venue answered, in seconds (absent before the first).',
    'venue',
  ),
  governor_venue_dead_mans_switch_expiry_timestamp_seconds: gauge(
    "Wall time at which the venue's dead man's switch cancels every order unless renewed (absent while not armed).",
    'venue',
  ),
  governor_fleet_notification_queue_usage_ratio: gauge(
    "pg_notification_queue_usage() of the fleet authority's PostgreSQL as this host's last renewal read it: 0 to 1 of the NOTIFY queue in use (absent without the authority option).",
  ),
  governor_mode_transitions_total: counter(
    'Lifecycle state changes since the health API started, by from and to state.',
    'from',
    'to',
  ),
  governor_failsafe_triggers_total: counter(
    'Entries into SHUTDOWN since the health API started, by trigger (OPERATOR_KILL included).',
    'trigger',
  ),
  governor_alerts_raised_total: counter(
    'Alerts raised since the health API started, by kind (one per incident).',
    'kind',
  ),
  governor_alert_delivery_attempts_total: counter(
    'Alert delivery attempts since the governor started, by sink and outcome (success, failure).',
    'sink',
    'outcome',
  ),
  governor_alert_deliveries_abandoned_total: counter(
    'Alert deliveries given up after their last attempt since the governor started, by sink.',
    'sink',
  ),
  governor_alert_deliveries_dropped_total: counter(
    'Alert deliveries refused because the delivery queue was full, since the governor started.',
  ),
  governor_alert_outbox_rows: gauge(
    'Rows of the alert outbox in the database, by sink and status; status="pending" is the depth.',
    'sink',
    'status',
  ),
  governor_watchdog_beats_total: counter(
    'Watchdog (dead man\u2019s switch) beats sent to Alertmanager since the governor started, by sink and outcome.',
    'sink',
    'outcome',
  ),
  governor_watchdog_last_success_timestamp_seconds: gauge(
    'Wall time of the last Watchdog beat Alertmanager accepted (0 before the first), by sink.',
    'sink',
  ),
  governor_watchdog_interval_seconds: gauge('Seconds between two Watchdog beats, by sink.', 'sink'),
  governor_integrity_scrub_running: gauge('1 while the background integrity scrub runs, else 0.'),
  governor_integrity_scrub_events_checked: gauge(
    'Events of the event log the current scrub pass has checked.',
  ),
  governor_integrity_scrub_events_in_pass: gauge(
    'Events the current scrub pass covers (the head sequence number it has reached).',
  ),
  governor_integrity_scrub_passes_completed_total: counter(
    'Background integrity scrub passes completed since the governor started.',
  ),
  governor_integrity_scrub_last_pass_completed_timestamp_seconds: gauge(
    'Wall time the last scrub pass completed (0 before the first).',
  ),
} as const satisfies Record<string, MetricSpec>;

export type GovernorMetricName = keyof typeof GOVERNOR_METRICS;

/** The metrics only a governor with the `authority` option exposes. */
export const FLEET_METRICS: readonly GovernorMetricName[] = [
  'governor_fleet_notification_queue_usage_ratio',
];

/**
 * The lifecycle state changes governor reports: the statechart's edges between two states
 * (test/services/api/metrics.test.ts compares them with the machine) and an operator restart's
 * SHUTDOWN → STARTING. Their counters start at 0, so rate() and increase() see the first one.
 */
export const MODE_TRANSITIONS: ReadonlyArray<readonly [LifecycleState, LifecycleState]> = [
  ['STARTING', 'CHECKING'],
  ['STARTING', 'SHUTDOWN'],
  ['CHECKING', 'AGGRESSIVE'],
  ['CHECKING', 'OBSERVE_ONLY'],
  ['CHECKING', 'SHUTDOWN'],
  ['AGGRESSIVE', 'OBSERVE_ONLY'],
  ['AGGRESSIVE', 'SHUTDOWN'],
  ['OBSERVE_ONLY', 'CHECKING'],
  ['OBSERVE_ONLY', 'SHUTDOWN'],
  ['SHUTDOWN', 'STARTING'],
];

/** The alert kinds (services/alerts/types.ts; the API may import it only as a type). */
export const ALERT_KINDS = [
  'SHUTDOWN',
  'STARTUP_FAILURE',
  'HEARTBEAT_LOSS',
  'INTEGRITY_VIOLATION',
  'VENUE_NOT_FLAT',
  'AUTHORITY_LOSS',
  'AUTHORITY_QUEUE',
] as const satisfies readonly AlertKind[];
// Every kind is listed: a kind added to the vocabulary and not here fails to compile.
type UnlistedKind = Exclude<AlertKind, (typeof ALERT_KINDS)[number]>;
export const EVERY_ALERT_KIND_LISTED: [UnlistedKind] extends [never] ? true : never = true;

export const OUTBOX_STATUSES = ['pending', 'delivered', 'failed'] as const;
/** Sinks named in the outbox beyond this many are not reported (a bound on label values). */
export const OUTBOX_SINKS_MAX = 64;
