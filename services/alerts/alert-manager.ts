/**
 * The alert manager core (spec: Alerting). It raises alerts only for the listed kinds, keeps
 * one alert per incident (dedup key), persists each one with its outbox rows, logs it, and lets
 * the dispatcher deliver it to the sinks with bounded retries, off the gate's and machine's path.
 */
import { randomUUID } from 'node:crypto';
import type { OutboxAttempt, OutboxEntry, OutboxOperation } from '../../persistence/index.js';
import type { Clock } from '../clock.js';
import { GovernorError, isGovernorError } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkOperatorName } from '../operator.js';
import type { AlertSpill } from './alert-spill.js';
import {
  DeliveryDispatcher,
  type DispatcherStats,
  type SinkDeliveryStats,
} from './delivery-dispatcher.js';
import {
  DEFAULT_DELIVERY_POLICY,
  type DeliveryPolicy,
  resolveDeliveryPolicy,
} from './delivery-policy.js';
import { type AlertDeliveryStatus, fromOutboxEntry } from './delivery-status.js';
import {
  ALERT_KINDS,
  ALERT_SEVERITIES,
  type AlertKind,
  type AlertSeverity,
  type AlertSink,
  type GovernorAlert,
  type WatchdogStats,
} from './types.js';

/** One configured sink's delivery counters since start, and its watchdog's beats (or null). */
export interface SinkStats extends SinkDeliveryStats {
  readonly sink: string;
  readonly watchdog: WatchdogStats | null;
}

export interface RaiseAlertInput {
  kind: AlertKind;
  dedupKey: string;
  severity: AlertSeverity;
  title: string;
  message: string;
  rootCause: string;
  recommendedAction: string;
  metadata?: Record<string, unknown>;
}

/** An outbox row written for one sink. */
export interface OutboxRowRef {
  readonly sink: string;
  readonly outboxId: number;
}

/** An alert written inside a caller's transaction, not yet logged, delivered or told (`stage`). */
export interface StagedAlert {
  readonly alert: GovernorAlert;
  /** The caller's transaction committed: log the alert, deliver it, tell the listeners. Once. */
  release(): void;
}

/** An alert built for raising, with the sinks that fit in the delivery queue. */
interface BuiltAlert {
  readonly alert: GovernorAlert;
  readonly sinks: readonly AlertSink[];
  /** Sinks left out because the queue is full (counted and logged when the alert goes out). */
  readonly dropped: number;
}

/** Where alerts are kept. The GovernanceSystem backs it with the SQLite store. */
export interface AlertRepository {
  /**
   * Persists the alert, its ALERT_RAISED event and one pending outbox row per sink named, in one
   * transaction; throws (having written nothing) when it cannot.
   */
  insert(alert: GovernorAlert, sinks: readonly string[]): OutboxRowRef[];
  findOpenByDedupKey(dedupKey: string): GovernorAlert | undefined;
  list(options: { unacknowledgedOnly: boolean; limit: number }): GovernorAlert[];
  get(alertId: string): GovernorAlert | undefined;
  acknowledge(alertId: string, operator: string, at: Date): void;
  /**
   * Marks every open alert of the incident resolved and writes a pending `resolve` outbox row
   * per sink named, in one transaction; returns the alerts and their rows.
   */
  resolve(
    dedupKey: string,
    at: Date,
    sinks: readonly string[],
  ): Array<{ alert: GovernorAlert; deliveries: OutboxRowRef[] }>;
  /** The dedup keys of unresolved alerts of these kinds. */
  openIncidentKeys(kinds: readonly AlertKind[]): string[];
  /** Pending outbox rows, oldest first, with their alerts. */
  pendingDeliveries(limit: number): Array<{ alert: GovernorAlert; entry: OutboxEntry }>;
  recordAttempt(outboxId: number, attempt: OutboxAttempt): void;
  listDeliveries(options: { alertId?: string; limit: number }): OutboxEntry[];
}

export interface AlertManagerOptions {
  /** Bounds of delivery (attempts, backoff, timeout, concurrency, queue); defaults in docs/alerts.md. */
  readonly delivery?: Partial<DeliveryPolicy>;
  /** Where alerts the database could not store are kept across restarts (alert-spill.ts). */
  readonly spill?: AlertSpill | null;
  /** Source of jitter, in [0, 1); default Math.random. */
  readonly random?: () => number;
  /** The governor's instance name, handed to each sink's `start` (services/alerts/instance.ts). */
  readonly instance?: string;
}

/** Deliveries waiting beyond this are dropped (and logged): the queue is bounded. */
export const DELIVERY_QUEUE_MAX = DEFAULT_DELIVERY_POLICY.queueMax;
/** Alerts kept in memory when the repository cannot be written. */
export const UNPERSISTED_ALERTS_MAX = 100;

export class AlertManager {
  private readonly sinks: AlertSink[];
  private readonly sinksByName = new Map<string, AlertSink>();
  private readonly dispatcher: DeliveryDispatcher;
  private readonly unpersisted: GovernorAlert[] = [];
  /** Unstored alerts an earlier process kept: stored (and delivered) once the database takes them. */
  private readonly inherited = new Set<string>();
  /** For each unstored alert, the sinks that already delivered it (kept in the spill). */
  private readonly deliveredTo = new Map<string, Set<string>>();
  private readonly spill: AlertSpill | null;
  private readonly raiseListeners = new Set<(alert: GovernorAlert) => void>();
  private stopped = false;

  constructor(
    private readonly repository: AlertRepository,
    private readonly clock: Clock,
    private readonly logger: Logger,
    sinks: readonly AlertSink[] = [],
    options: AlertManagerOptions = {},
  ) {
    this.sinks = [...sinks];
    for (const sink of this.sinks) {
      if (typeof sink?.name !== 'string' || sink.name.trim() === '' || sink.name.length > 128) {
        throw new GovernorError(
          'GOV_INVALID_CONFIG',
          'every alert sink needs a name of 1 to 128 characters',
        );
      }
      if (this.sinksByName.has(sink.name)) {
        throw new GovernorError(
          'GOV_INVALID_CONFIG',
          `two alert sinks are named ${sink.name}; names identify outbox rows and must be unique`,
          { field: 'alertSinks', sink: sink.name },
        );
      }
      this.sinksByName.set(sink.name, sink);
    }
    const policy = resolveDeliveryPolicy(options.delivery);
    this.dispatcher = new DeliveryDispatcher(
      clock,
      logger,
      policy,
      {
        recordAttempt: (id, attempt) => this.repository.recordAttempt(id, attempt),
        deliveredInMemory: (alertId, sink, operation) => {
          if (operation !== 'deliver' || !this.unpersisted.some((a) => a.alertId === alertId)) {
            return;
          }
          const sinks = this.deliveredTo.get(alertId) ?? new Set<string>();
          sinks.add(sink);
          this.deliveredTo.set(alertId, sinks);
          this.saveSpill();
        },
      },
      options.random,
    );
    this.spill = options.spill ?? null;
    this.resumePendingDeliveries(policy);
    for (const sink of this.sinks) {
      sink.start?.({
        clock,
        logger: logger.child({ sink: sink.name }),
        ...(options.instance === undefined ? {} : { instance: options.instance }),
      });
    }
    this.inheritSpilled();
  }

  /**
   * Stores the alerts kept in memory because the database could not take them (call it when
   * writes succeed again: governor does after each heartbeat). An alert kept by an earlier
   * process is delivered once stored; one of this process was delivered when it was raised.
   * Returns how many were stored.
   */
  storeUnpersisted(): number {
    if (this.unpersisted.length === 0 || this.stopped) return 0;
    let stored = 0;
    for (const alert of [...this.unpersisted]) {
      // Delivered by this process when raised; an earlier process's: to the sinks it missed.
      const inherited = this.inherited.has(alert.alertId);
      const done = this.deliveredTo.get(alert.alertId) ?? new Set<string>();
      const missing = this.sinks.filter((sink) => !done.has(sink.name));
      const sinks = inherited && alert.resolvedAt === null ? this.admit(missing, alert) : [];
      let rows: OutboxRowRef[];
      try {
        rows = this.repository.insert(
          alert,
          sinks.map((sink) => sink.name),
        );
      } catch (error) {
        if (isGovernorError(error, 'GOV_DUPLICATE_ALERT')) {
          rows = []; // stored already (by an earlier attempt): nothing more to do
        } else {
          this.logger.warn({ err: error }, 'unstored alerts still cannot be stored');
          break;
        }
      }
      this.unpersisted.splice(this.unpersisted.indexOf(alert), 1);
      this.inherited.delete(alert.alertId);
      this.deliveredTo.delete(alert.alertId);
      if (rows.length > 0) this.dispatch(alert, sinks, 'deliver', rows);
      stored++;
    }
    this.saveSpill();
    return stored;
  }

  /** Takes over what an earlier process could not store, and tries to store it now. */
  private inheritSpilled(): void {
    const spilled = this.spill?.load() ?? { alerts: [], deliveredTo: {} };
    for (const alert of spilled.alerts) {
      if (this.unpersisted.some((a) => a.alertId === alert.alertId)) continue;
      this.unpersisted.push(alert);
      this.inherited.add(alert.alertId);
      this.deliveredTo.set(alert.alertId, new Set(spilled.deliveredTo[alert.alertId] ?? []));
    }
    if (spilled.alerts.length > 0) {
      this.logger.warn(
        { count: spilled.alerts.length },
        'alerts an earlier process could not store',
      );
      this.storeUnpersisted();
    }
  }

  private saveSpill(): void {
    try {
      const deliveredTo: Record<string, string[]> = {};
      for (const [alertId, sinks] of this.deliveredTo) deliveredTo[alertId] = [...sinks];
      this.spill?.save({ alerts: this.unpersisted, deliveredTo });
    } catch (error) {
      this.logger.error({ err: error }, 'unstored alerts could not be kept in the spill file');
    }
  }

  /**
   * Raises an alert for `input.kind`, unless an open alert with the same dedup key exists
   * (one alert per incident). Returns the alert, or null when it was deduplicated.
   * Never throws for a storage failure: the alert is still logged and delivered.
   */
  raise(input: RaiseAlertInput): GovernorAlert | null {
    const built = this.build(input);
    if (built === null) return null;
    this.countDropped(built);
    this.logAlert(built.alert);
    const rows = this.persist(built);
    if (rows === null) this.keepUnpersisted(built.alert);
    this.finish(built, rows);
    return built.alert;
  }

  /**
   * Raises an alert as `raise` does, but writes it inside the caller's open write transaction
   * (a savepoint of it: a failed alert write is rolled back alone, and the caller's writes stay)
   * and holds back its log line, its delivery and the listeners until the caller, once its
   * transaction has committed, calls `release`. When that transaction rolls back instead, the
   * caller drops the staged alert (its row went with the transaction) and raises it again.
   * Returns null when deduplicated. Never throws for a storage failure.
   */
  stage(input: RaiseAlertInput): StagedAlert | null {
    const built = this.build(input);
    if (built === null) return null;
    const rows = this.persist(built);
    let released = false;
    return {
      alert: built.alert,
      release: () => {
        if (released) return;
        released = true;
        this.countDropped(built);
        this.logAlert(built.alert);
        if (rows === null) this.keepUnpersisted(built.alert);
        this.finish(built, rows);
      },
    };
  }

  /** The alert of `input` and the sinks it fits in the delivery queue for; null when deduplicated. */
  private build(input: RaiseAlertInput): BuiltAlert | null {
    if (!(ALERT_KINDS as readonly string[]).includes(input.kind)) {
      throw new GovernorError(
        'GOV_INVALID_ARGUMENT',
        `alert kind must be one of ${ALERT_KINDS.join(', ')}`,
      );
    }
    if (!(ALERT_SEVERITIES as readonly string[]).includes(input.severity)) {
      throw new GovernorError(
        'GOV_INVALID_ARGUMENT',
        'alert severity must be CRITICAL, WARNING or INFO',
      );
    }
    if (this.isOpen(input.dedupKey)) return null;
    const alert: GovernorAlert = {
      alertId: randomUUID(),
      timestamp: new Date(this.clock.wallNow()),
      severity: input.severity,
      title: input.title,
      message: input.message,
      rootCause: input.rootCause,
      recommendedAction: input.recommendedAction,
      ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
      acknowledged: false,
      kind: input.kind,
      dedupKey: input.dedupKey,
      acknowledgedBy: null,
      acknowledgedAt: null,
      resolvedAt: null,
    };
    const capacity = this.stopped ? 0 : this.dispatcher.capacity();
    return {
      alert,
      sinks: this.sinks.slice(0, capacity),
      dropped: this.stopped ? 0 : Math.max(0, this.sinks.length - capacity),
    };
  }

  /** Writes the alert and its outbox rows; null (logged) when the repository refused them. */
  private persist(built: BuiltAlert): OutboxRowRef[] | null {
    try {
      return this.repository.insert(
        built.alert,
        built.sinks.map((sink) => sink.name),
      );
    } catch (error) {
      this.logger.error(
        { err: error, alertId: built.alert.alertId },
        'alert could not be persisted',
      );
      return null;
    }
  }

  private countDropped(built: BuiltAlert): void {
    if (built.dropped > 0) this.dispatcher.countDropped(built.dropped, built.alert.alertId);
  }

  /** Queues the deliveries (from the outbox rows, or memory only) and tells the listeners. */
  private finish(built: BuiltAlert, rows: OutboxRowRef[] | null): void {
    this.dispatch(built.alert, built.sinks, 'deliver', rows);
    for (const listener of this.raiseListeners) {
      try {
        listener(built.alert);
      } catch (error) {
        this.logger.error({ err: error }, 'an alert listener threw; ignored');
      }
    }
  }

  /** Registers a listener told, synchronously, of each alert raised; returns its remover. */
  onRaise(listener: (alert: GovernorAlert) => void): () => void {
    this.raiseListeners.add(listener);
    return () => this.raiseListeners.delete(listener);
  }

  /** Every alert (newest first), unpersisted ones included. */
  getAlerts(limit = 1_000): GovernorAlert[] {
    return this.merge(this.safeList(false, limit), limit);
  }

  getUnacknowledgedAlerts(limit = 1_000): GovernorAlert[] {
    return this.merge(this.safeList(true, limit), limit).filter((a) => !a.acknowledged);
  }

  /** Acknowledges an alert in the name of `operator` (trimmed; checked as any operator name). */
  acknowledge(alertId: string, operator: string): GovernorAlert {
    const name = checkOperatorName(operator, 'acknowledging an alert');
    const at = new Date(this.clock.wallNow());
    const memory = this.unpersisted.find((a) => a.alertId === alertId);
    if (memory !== undefined) {
      Object.assign(memory, { acknowledged: true, acknowledgedBy: name, acknowledgedAt: at });
      return memory;
    }
    this.repository.acknowledge(alertId, name, at);
    const stored = this.repository.get(alertId);
    if (stored === undefined) throw new GovernorError('GOV_UNKNOWN_ALERT', `no alert ${alertId}`);
    return stored;
  }

  /**
   * Resolves an incident (an operator's restart): later raises of the key alert again, and each
   * sink that can resolve (Alertmanager `endsAt`, PagerDuty `resolve`) is told, through the outbox.
   */
  resolveIncident(dedupKey: string): void {
    const at = new Date(this.clock.wallNow());
    const resolvers = this.sinks.filter((sink) => sink.resolve !== undefined);
    for (const alert of this.unpersisted) {
      if (alert.dedupKey !== dedupKey || alert.resolvedAt !== null) continue;
      alert.resolvedAt = at;
      this.dispatch(alert, this.admit(resolvers, alert), 'resolve', null);
    }
    let resolved: Array<{ alert: GovernorAlert; deliveries: OutboxRowRef[] }> = [];
    const admitted = this.admit(resolvers, null);
    try {
      resolved = this.repository.resolve(
        dedupKey,
        at,
        admitted.map((sink) => sink.name),
      );
    } catch (error) {
      this.logger.error({ err: error, dedupKey }, 'incident could not be marked resolved');
    }
    for (const { alert, deliveries } of resolved) {
      this.dispatch(alert, admitted, 'resolve', deliveries);
    }
  }

  /** Resolves every open incident of these kinds (an operator's resume or restart). */
  resolveOpenIncidents(kinds: readonly AlertKind[]): void {
    let keys: string[] = [];
    try {
      keys = this.repository.openIncidentKeys(kinds);
    } catch (error) {
      this.logger.error({ err: error }, 'open incidents could not be read');
    }
    for (const alert of this.unpersisted) {
      if (alert.resolvedAt === null && kinds.includes(alert.kind)) keys.push(alert.dedupKey);
    }
    for (const key of new Set(keys)) this.resolveIncident(key);
  }

  isOpen(dedupKey: string): boolean {
    if (this.unpersisted.some((a) => a.dedupKey === dedupKey && a.resolvedAt === null)) return true;
    try {
      return this.repository.findOpenByDedupKey(dedupKey) !== undefined;
    } catch {
      return false;
    }
  }

  /**
   * Delivery counters since this manager started: successful and failed attempts, deliveries
   * abandoned after their last attempt or dropped because the queue was full, and how many wait.
   */
  deliveryStats(): DispatcherStats & { pending: number } {
    return this.dispatcher.stats();
  }

  /**
   * Each configured sink's counters since this manager started (zeros until its first attempt),
   * in configuration order, with its watchdog's beats when it runs one.
   */
  sinkStats(): SinkStats[] {
    const bySink = this.dispatcher.statsBySink();
    return this.sinks.map((sink) => {
      let watchdog: WatchdogStats | null = null;
      try {
        watchdog = sink.watchdogStats?.() ?? null;
      } catch (error) {
        this.logger.warn({ err: error, sink: sink.name }, 'sink watchdog stats could not be read');
      }
      return {
        sink: sink.name,
        ...(bySink.get(sink.name) ?? { delivered: 0, failed: 0, abandoned: 0 }),
        watchdog,
      };
    });
  }

  /**
   * Where each delivery stands (pending, delivered, failed; attempts; last error), newest first:
   * the outbox rows (of one alert, or of all) plus deliveries of alerts that could not be persisted.
   */
  getDeliveryStatus(alertId?: string, limit = 100): AlertDeliveryStatus[] {
    const memory = this.dispatcher
      .queued()
      .filter((job) => job.outboxId === null && (alertId === undefined || job.alertId === alertId))
      .map(
        (job): AlertDeliveryStatus => ({
          outboxId: null,
          alertId: job.alertId,
          dedupKey: job.dedupKey,
          sink: job.sink,
          operation: job.operation,
          status: 'pending',
          attempts: job.attempts,
          createdAt: null,
          lastAttemptAt: null,
          nextAttemptAt: null,
          deliveredAt: null,
          lastError: job.lastError,
          persisted: false,
        }),
      );
    let stored: AlertDeliveryStatus[] = [];
    try {
      const options = alertId === undefined ? { limit } : { alertId, limit };
      stored = this.repository.listDeliveries(options).map(fromOutboxEntry);
    } catch (error) {
      this.logger.error({ err: error }, 'alert deliveries could not be read');
    }
    return [...memory, ...stored].slice(0, limit);
  }

  /** Resolves when no delivery attempt is in flight or due (retries waiting on backoff excepted). */
  async flush(): Promise<void> {
    await this.dispatcher.flush();
  }

  /**
   * Stops delivering and stops the sinks' timers (watchdog). Rows still pending stay in the
   * outbox and are delivered by the next AlertManager over the same database. Idempotent.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.dispatcher.stop();
    for (const sink of this.sinks) {
      try {
        sink.stop?.();
      } catch (error) {
        this.logger.warn({ err: error, sink: sink.name }, 'alert sink did not stop cleanly');
      }
    }
  }

  private logAlert(alert: GovernorAlert): void {
    const level =
      alert.severity === 'CRITICAL' ? 'error' : alert.severity === 'WARNING' ? 'warn' : 'info';
    this.logger[level](
      {
        alert: {
          alertId: alert.alertId,
          kind: alert.kind,
          severity: alert.severity,
          rootCause: alert.rootCause,
          recommendedAction: alert.recommendedAction,
        },
      },
      `ALERT ${alert.severity}: ${alert.title}: ${alert.message}`,
    );
  }

  /** The sinks that still fit in the delivery queue; the others are dropped and logged. */
  private admit(sinks: readonly AlertSink[], alert: GovernorAlert | null): AlertSink[] {
    if (this.stopped) return [];
    const capacity = this.dispatcher.capacity();
    if (sinks.length <= capacity) return [...sinks];
    this.dispatcher.countDropped(sinks.length - capacity, alert?.alertId ?? 'resolution');
    return sinks.slice(0, capacity);
  }

  /** Queues one delivery per sink; `rows` are the outbox rows written, or null (memory only). */
  private dispatch(
    alert: GovernorAlert,
    sinks: readonly AlertSink[],
    operation: OutboxOperation,
    rows: readonly OutboxRowRef[] | null,
  ): void {
    for (const sink of sinks) {
      const outboxId = rows?.find((row) => row.sink === sink.name)?.outboxId ?? null;
      this.dispatcher.enqueue({ outboxId, alert, sink, operation, attempts: 0 });
    }
  }

  /** After a restart (or a crash), picks up the outbox rows still pending. */
  private resumePendingDeliveries(policy: DeliveryPolicy): void {
    let pending: Array<{ alert: GovernorAlert; entry: OutboxEntry }>;
    try {
      pending = this.repository.pendingDeliveries(policy.queueMax);
    } catch (error) {
      this.logger.error({ err: error }, 'pending alert deliveries could not be read');
      return;
    }
    let resumed = 0;
    const unknownSinks = new Set<string>();
    for (const { alert, entry } of pending) {
      const sink = this.sinksByName.get(entry.sink);
      if (sink === undefined) {
        unknownSinks.add(entry.sink); // left pending for a process that has this sink
        continue;
      }
      if (entry.operation === 'resolve' && sink.resolve === undefined) {
        this.closeUnresolvable(entry);
        continue;
      }
      this.dispatcher.enqueue({
        outboxId: entry.id,
        alert,
        sink,
        operation: entry.operation,
        attempts: Math.min(entry.attempts, policy.attemptsMax - 1),
      });
      resumed++;
    }
    if (resumed > 0 || unknownSinks.size > 0) {
      this.logger.info(
        { resumed, sinksNotConfigured: [...unknownSinks] },
        'resuming pending alert deliveries',
      );
    }
  }

  /** A resolution queued for a sink that has no resolve (a webhook, say): nothing to send. */
  private closeUnresolvable(entry: OutboxEntry): void {
    try {
      this.repository.recordAttempt(entry.id, {
        status: 'failed',
        attempts: entry.attempts,
        at: new Date(this.clock.wallNow()).toISOString(),
        error: `sink ${entry.sink} cannot resolve an incident`,
        nextAttemptAt: null,
      });
    } catch (error) {
      this.logger.warn({ err: error, outboxId: entry.id }, 'outbox row could not be closed');
    }
  }

  private keepUnpersisted(alert: GovernorAlert): void {
    this.unpersisted.push(alert);
    if (this.unpersisted.length > UNPERSISTED_ALERTS_MAX) {
      const dropped = this.unpersisted.shift();
      if (dropped !== undefined) {
        this.inherited.delete(dropped.alertId);
        this.deliveredTo.delete(dropped.alertId);
      }
    }
    this.saveSpill();
  }

  private safeList(unacknowledgedOnly: boolean, limit: number): GovernorAlert[] {
    try {
      return this.repository.list({ unacknowledgedOnly, limit });
    } catch (error) {
      this.logger.error({ err: error }, 'alerts could not be read');
      return [];
    }
  }

  private merge(stored: GovernorAlert[], limit: number): GovernorAlert[] {
    if (this.unpersisted.length === 0) return stored;
    return [...this.unpersisted, ...stored]
      .sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime())
      .slice(0, limit);
  }
}
