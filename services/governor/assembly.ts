/**
 * Builds a running GovernanceSystem from checked options: opens the database as its owner,
 * builds the monitors, the alerts, the venues, the integrity checks, the gate and the machine,
 * wires each part's callbacks (hosts.ts), begins the lifecycle from the record; and takes it all
 * down again (a planned close, or a simulated crash).
 */
import type { Mode } from '../../machines/types.js';
import { Store } from '../../persistence/index.js';
import { DataIntegrityVerifier, IntegrityScrubber } from '../../persistence/integrity/index.js';
import type { ModeJournal } from '../../persistence/mode-journal.js';
import { AlertManager } from '../alerts/alert-manager.js';
import { alertSpillPathFor, fileAlertSpill } from '../alerts/alert-spill.js';
import { governorInstance } from '../alerts/instance.js';
import { createStoreAlertRepository } from '../alerts/store-repository.js';
import { type Clock, SystemClock } from '../clock.js';
import type { Thresholds } from '../config.js';
import { fallbackPathFor } from '../fallback-file.js';
import type { LeaseView } from '../fleet/lease.js';
import { FailSafeManager } from '../health/fail-safe-manager.js';
import { HealthMonitor } from '../health/health-monitor.js';
import { HeartbeatMonitor } from '../health/heartbeat-monitor.js';
import { transitionLogger } from '../inspection.js';
import { componentLogger, type Logger, silentLogger } from '../logger.js';
import {
  beginLifecycle,
  honourExternalLatch,
  integrityViolations,
  requestShutdown,
} from './dispatcher.js';
import { Effects } from './effects.js';
import { createEnginePort, type EnginePort } from './engine-port.js';
import { fleetEpochMemory } from './fleet-epochs.js';
import { FleetLink } from './fleet-link.js';
import { Gate } from './gate.js';
import { mayRenewSwitches, refreshGateDeadline } from './gate-deadline.js';
import { commandTarget, failSafeHost, fleetHost, heartbeatHost, lifecycleHost } from './hosts.js';
import { Incidents } from './incidents.js';
import { inputsText, restoreInputAges } from './inputs.js';
import { InvariantGuard } from './invariants.js';
import { Lifecycle } from './lifecycle.js';
import { processSignature, RequestWatcher } from './operator-commands.js';
import type { CheckedOptions } from './options.js';
import { effectiveThresholds, openAsOwner } from './owner-database.js';
import type { OwnerLock } from './ownership/take.js';
import type { ThresholdsOrigin } from './preflight.js';
import { installProcessErrorHandling } from './process-errors.js';
import { nowIso, type Runtime, type RuntimeFlags } from './runtime.js';
import { timerWorks } from './timers.js';
import { VenueGuard } from './venue-guard.js';

export class Assembly implements Runtime {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly dbPath: string;
  readonly fallbackPath: string | null;
  readonly ownerLock: OwnerLock | null;
  readonly store: Store;
  readonly journal: ModeJournal;
  readonly thresholds: Thresholds;
  readonly thresholdsOrigin: ThresholdsOrigin;
  readonly configuredMode: Mode;
  readonly allowRiskReducingInShutdown: boolean;
  readonly actingOwner: boolean;
  readonly health: HealthMonitor;
  readonly alerts: AlertManager;
  readonly incidents: Incidents;
  readonly venues: VenueGuard;
  readonly verifier: DataIntegrityVerifier;
  readonly scrubber: IntegrityScrubber;
  readonly verifications = new AbortController();
  readonly gate: Gate;
  readonly failSafe: FailSafeManager;
  readonly heartbeat: HeartbeatMonitor;
  readonly fleet: FleetLink | null;
  readonly leaseListeners = new Set<(view: LeaseView) => void>();
  readonly engine: EnginePort;
  readonly effects: Effects;
  readonly invariants: InvariantGuard;
  readonly lifecycle: Lifecycle;
  readonly watcher: RequestWatcher;
  readonly flags: RuntimeFlags = {
    closed: false,
    adapters: null,
    monitorsStarted: false,
    nextVisitVerifiesFully: true,
    removeProcessHooks: () => {},
  };

  constructor(checked: CheckedOptions) {
    const { options } = checked;
    this.configuredMode = checked.configuredMode;
    this.allowRiskReducingInShutdown = checked.allowRiskReducingInShutdown;
    this.clock = options.clock ?? new SystemClock();
    this.logger = componentLogger(options.logger ?? silentLogger(), 'governor');
    this.dbPath = options.dbPath ?? './governor.db';
    this.fallbackPath = fallbackPathFor(this.dbPath);
    const owned = openAsOwner({
      dbPath: this.dbPath,
      clock: this.clock,
      logger: this.logger,
      configuredMode: this.configuredMode,
      faults: options.faults,
    });
    this.ownerLock = owned.ownerLock;
    this.store = owned.store;
    this.journal = owned.journal;
    this.actingOwner = options.actingOwner === true;
    const effective = effectiveThresholds(owned, checked.configuredThresholds, this.actingOwner, {
      logger: this.logger,
      nowIso: nowIso(this),
    });
    this.thresholds = effective.thresholds;
    this.thresholdsOrigin = effective.origin;
    this.health = new HealthMonitor(this.clock, this.thresholds);
    this.alerts = new AlertManager(
      createStoreAlertRepository(this.store),
      this.clock,
      componentLogger(this.logger, 'alerts'),
      options.alertSinks ?? [],
      {
        ...(options.alertDelivery === undefined ? {} : { delivery: options.alertDelivery }),
        spill: fileAlertSpill(alertSpillPathFor(this.dbPath)),
        instance: governorInstance(this.dbPath),
      },
    );
    this.incidents = new Incidents(this.alerts);
    this.venues = new VenueGuard(checked.venues, {
      store: this.store,
      incidents: this.incidents,
      clock: this.clock,
      logger: componentLogger(this.logger, 'venues'),
      thresholds: this.thresholds,
      actingOwner: this.actingOwner,
      host: {
        mayRenew: () => mayRenewSwitches(this),
        switchFired: (venue, reason) => {
          this.logger.fatal({ venue }, "a venue's dead man's switch may have fired");
          requestShutdown(this, { trigger: 'VENUE_DEAD_MANS_SWITCH_FIRED', reason });
        },
        switchDeadlineChanged: () => refreshGateDeadline(this),
      },
    });
    this.verifier = new DataIntegrityVerifier(this.store, {
      clock: this.clock,
      ...(options.integrityWorkersMax === undefined
        ? {}
        : { workersMax: options.integrityWorkersMax }),
    });
    this.scrubber = new IntegrityScrubber({
      verifier: this.verifier,
      clock: this.clock,
      passMs: this.thresholds.integrityScrubPassMs,
      onViolations: (violations) => integrityViolations(this, violations),
      onError: (error) => {
        this.logger.error({ err: error }, 'the integrity scrub could not run a slice');
        this.health.recordError();
      },
    });
    this.gate = new Gate(this.clock);
    this.failSafe = new FailSafeManager(
      failSafeHost(this),
      this.health,
      this.clock,
      this.thresholds,
    );
    this.heartbeat = new HeartbeatMonitor(
      heartbeatHost(this, (closed) => this.inputsText(closed)),
      this.clock,
      this.thresholds,
    );
    this.fleet =
      options.authority === undefined
        ? null
        : new FleetLink(
            options.authority,
            fleetEpochMemory(
              this.store,
              this.dbPath,
              this.clock,
              componentLogger(this.logger, 'fleet'),
            ),
            this.clock,
            componentLogger(this.logger, 'fleet'),
            fleetHost(this),
          );
    // Every committed append is an event-log write, whoever made it (governor or the engine).
    this.store.events.onAppendCommitted(() => this.health.updateEventLogWriteTimestamp());
    this.health.setChangeListener((kind) => {
      if (kind === 'input') refreshGateDeadline(this);
      else this.failSafe.onHealthEvent();
    });
    this.engine = createEnginePort(this.store, this.health);
    this.restoreInputAges(owned.authority.inputsText);
    this.effects = new Effects({
      journal: this.journal,
      incidents: this.incidents,
      health: this.health,
      heartbeatAgeMs: () => this.heartbeat.ageMs(),
      clock: this.clock,
      logger: this.logger,
      fallbackPath: this.fallbackPath,
      // What this process has not verified yet is walked from the anchor an earlier run wrote
      // (a full walk on this thread only when there is none, or the chain no longer has it):
      // a restart into a latch must not block its constructor for a walk of the whole log.
      // The operator's restart out of SHUTDOWN still verifies the whole log (a new process).
      anchorHead: () => this.verifier.verify({ resumeFromAnchor: true }),
      shutdownEntered: (latch) => this.venues.onShutdown(latch),
    });
    this.invariants = new InvariantGuard({
      gate: this.gate,
      lifecycle: () => this.lifecycle,
      closed: () => this.flags.closed,
      broken: (reason) => {
        this.logger.fatal({ invariant: reason }, 'an invariant broke after a machine step');
        requestShutdown(this, {
          trigger: 'INVARIANT_VIOLATED',
          reason: `invariant violated: ${reason}`,
        });
      },
    });
    const logTransition = transitionLogger(componentLogger(this.logger, 'machine'));
    const inspect = options.inspect;
    this.lifecycle = new Lifecycle(
      lifecycleHost(this),
      this.clock,
      inspect === undefined
        ? logTransition
        : (event) => {
            logTransition(event);
            inspect(event);
          },
      timerWorks(this, checked.pollMs),
    );
    this.watcher = new RequestWatcher(this.store, commandTarget(this), {
      logger: componentLogger(this.logger, 'requests'),
      wallNow: () => this.clock.wallNow(),
      handledBy: processSignature('owner'),
      onExternalChange: () => honourExternalLatch(this),
    });
    beginLifecycle(this, owned.authority);
    this.flags.removeProcessHooks = installProcessErrorHandling(options, this.logger, (reason) =>
      requestShutdown(this, { trigger: 'UNRECOVERABLE_EXCEPTION', reason }),
    );
    void this.watcher.drain();
  }

  /** Stops timers and the machine, records the stop, and closes the database. Idempotent. */
  close(): void {
    if (this.flags.closed) return;
    const state = this.lifecycle.state;
    // A planned stop: the switches are disarmed, unless in SHUTDOWN (they are left to run out).
    this.venues.close(state !== 'SHUTDOWN');
    this.stopRunning();
    try {
      this.journal.recordInputs(this.inputsText(true));
      this.store.events.append({
        eventType: 'GOVERNOR_STOPPED',
        reason: 'governor closed',
        metadata: { state },
      });
    } catch (error) {
      this.logger.warn({ err: error }, 'stop event could not be written');
    }
    // Pending deliveries stay in the outbox; the next owner of this file sends them.
    this.alerts.stop();
    try {
      this.journal.releaseOwner(process.pid, nowIso(this));
    } catch (error) {
      this.logger.warn({ err: error }, 'owner row could not be released');
    }
    this.store.close();
    this.ownerLock?.release();
  }

  /** A second, read-only connection (null for `:memory:`); the caller closes it. */
  openReadOnlyStore(): Store | null {
    if (this.dbPath === ':memory:') return null;
    return Store.open(this.dbPath, { readonly: true });
  }

  /** Dies like kill -9: no write, timers stopped, lock freed. */
  crash(): void {
    if (this.flags.closed) return;
    this.venues.close(false);
    this.stopRunning();
    this.alerts.stop();
    this.store.close();
    this.ownerLock?.release();
  }

  /**
   * The gate shut for good, every timer, worker and hook stopped: what close and a crash share.
   * The timers are the machine's invoked actors: they stop with it.
   */
  private stopRunning(): void {
    this.flags.closed = true;
    this.gate.setOpen(false);
    this.watcher.stop();
    this.verifications.abort();
    this.lifecycle.stop();
    this.flags.removeProcessHooks();
  }

  /**
   * Starts the input ages from the record (aged by the wall time since), and records them at
   * once: a process that dies before its first heartbeat leaves the next one these ages, not
   * the older record's, which a wall clock set back could make look fresher.
   */
  private restoreInputAges(recorded: string | null): void {
    restoreInputAges(this.health, recorded, {
      latestSnapshot: () => this.store.snapshots.latest(),
      wallNowMs: this.clock.wallNow(),
      logger: this.logger,
    });
    try {
      this.journal.recordInputs(this.inputsText(false));
    } catch (error) {
      this.logger.warn({ err: error }, 'the restored input ages could not be recorded');
    }
  }

  private inputsText(closed: boolean): string {
    let latestSnapshotDate: string | null = null;
    try {
      latestSnapshotDate = this.store.snapshots.latest()?.date ?? null;
    } catch (error) {
      // Unknown: the next start then takes the snapshot's age from the database.
      this.logger.warn({ err: error }, 'latest snapshot could not be read');
    }
    return inputsText(this.health, this.clock.wallNow(), closed, latestSnapshotDate);
  }
}
