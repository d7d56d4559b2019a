/**
 * The GovernanceSystem: the object an execution engine embeds, and a facade over the modules
 * beside it. It owns the database (one owner per file), runs the lifecycle statechart (the only
 * state it keeps), wires health, heartbeat, fail-safe, integrity and alerts to it, carries out
 * operator commands however they come, and answers the gate: `canDeployCapital()`, O(1),
 * allocation-free, no I/O.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { InspectionEvent } from 'xstate';
import type { StartupChecksInput } from '../../machines/governor-machine.js';
import type {
  GovernorContext,
  GovernorEvent,
  LifecycleState,
  Mode,
  OperatorRestartEvent,
  ShutdownLatch,
  ShutdownTrigger,
  StartupCheckResult,
  StartupReport,
} from '../../machines/types.js';
import type { PoolBalance } from '../../persistence/capital.js';
import type { FaultInjector } from '../../persistence/faults.js';
import { Store } from '../../persistence/index.js';
import {
  DataIntegrityVerifier,
  IntegrityScrubber,
  type IntegrityViolation,
} from '../../persistence/integrity/index.js';
import {
  type AuthorityRecord,
  ModeJournal,
  type OwnerThresholds,
} from '../../persistence/mode-journal.js';
import { readFields } from '../../persistence/plain-copy.js';
import { LIMITS } from '../../persistence/validation.js';
import { AlertManager } from '../alerts/alert-manager.js';
import { alertSpillPathFor, fileAlertSpill } from '../alerts/alert-spill.js';
import type { DeliveryPolicy } from '../alerts/delivery-policy.js';
import { governorInstance } from '../alerts/instance.js';
import { createStoreAlertRepository } from '../alerts/store-repository.js';
import type { AlertSink, GovernorAlert } from '../alerts/types.js';
import { type Clock, SystemClock } from '../clock.js';
import { parseMode, resolveThresholds, type Thresholds } from '../config.js';
import { clipBytes } from '../display-text.js';
import { AssertionError, describeError, GovernorError, isGovernorError } from '../errors.js';
import {
  clearFallbackHold,
  fallbackPathFor,
  readFallbackRecord,
  retireFallbackRecord,
} from '../fallback-file.js';
import type { LeaseView } from '../fleet/lease.js';
import {
  FailSafeManager,
  type FailSafeState,
  nextStalenessDeadlineMs,
  staleRuleReasons,
  type TriggerDecision,
} from '../health/fail-safe-manager.js';
import { HealthMonitor, type SystemHealth } from '../health/health-monitor.js';
import { HeartbeatMonitor } from '../health/heartbeat-monitor.js';
import { exactDuration, isStale } from '../health/staleness.js';
import {
  type AdaptersArgument,
  type NamedAdapter,
  normaliseAdapters,
  runStartupCheckSuite,
} from '../health/startup-checks.js';
import { transitionLogger } from '../inspection.js';
import { componentLogger, type Logger, silentLogger } from '../logger.js';
import { checkOperatorRequest, type OperatorRequest } from '../operator.js';
import type { Venue } from '../venues/venue.js';
import { type Authorization, authorityInForce, type Cause } from './authority.js';
import { Effects, type ModeChangeListener } from './effects.js';
import { createEnginePort, type EnginePort } from './engine-port.js';
import { type AuthorityOptions, FleetLink } from './fleet-link.js';
import { Gate } from './gate.js';
import { Incidents } from './incidents.js';
import { inputsText, restoreInputAges } from './inputs.js';
import { forceInconsistency, type Inconsistency, InvariantGuard } from './invariants.js';
import { Lifecycle } from './lifecycle.js';
import {
  type CommandTarget,
  processSignature,
  REQUEST_POLL_MS_DEFAULT,
  REQUEST_POLL_MS_RANGE,
  RequestWatcher,
} from './operator-commands.js';
import {
  acquireOwnerLock,
  adoptSideFiles,
  claimOwnerRow,
  type OwnerLock,
} from './ownership/take.js';
import { type PreflightReport, preflight, type ThresholdsOrigin } from './preflight.js';
import { type ExceptionOrigin, watchUncaughtExceptions } from './process-errors.js';
import { announceRestart, restartEvent } from './restart.js';
import { type GovernorStatus, liveStatus } from './status.js';
import { checkVenues, VenueGuard, type VenueStatus } from './venue-guard.js';
import {
  type AlertManagerView,
  alertManagerView,
  type DataIntegrityVerifierView,
  dataIntegrityVerifierView,
  type FailSafeManagerView,
  failSafeManagerView,
  type HealthMonitorView,
  healthMonitorView,
} from './views.js';

export type { ModeChange, ModeChangeListener } from './effects.js';

export interface GovernanceSystemOptions {
  /** SQLite file (default `./governor.db`), or `:memory:`. */
  readonly dbPath?: string;
  /** Must be true (the default): governor's protections cannot be switched off. */
  readonly enableProductionHardening?: boolean;
  readonly thresholds?: Partial<Thresholds>;
  /** The mode to reach after passing startup checks (default AGGRESSIVE): a ceiling. */
  readonly desiredMode?: Mode;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly alertSinks?: readonly AlertSink[];
  /** Bounds of alert delivery: attempts, backoff, timeout, concurrency, queue (docs/alerts.md). */
  readonly alertDelivery?: Partial<DeliveryPolicy>;
  /**
   * Opt-in: governor handles the process's uncaught exceptions and unhandled rejections itself
   * (`process.on('uncaughtException' | 'unhandledRejection')`): each triggers
   * UNRECOVERABLE_EXCEPTION and the process keeps running, in SHUTDOWN.
   */
  readonly handleProcessErrors?: boolean;
  /**
   * Default true: an uncaught exception (or an unhandled rejection Node raises as one) latches
   * SHUTDOWN (UNRECOVERABLE_EXCEPTION) synchronously, through `uncaughtExceptionMonitor`,
   * before Node's own handling, which is left unchanged (the process still crashes). false opts
   * out; it cannot be combined with `handleProcessErrors: true`.
   */
  readonly latchUncaughtExceptions?: boolean;
  /** Extra XState inspection observer (transitions are always logged). */
  readonly inspect?: (event: InspectionEvent) => void;
  /**
   * How often (ms, 5–1000, default 25) the owner looks for operator commands other processes
   * recorded in the database; null: only when `pollOperatorRequests()` is called (simulators).
   */
  readonly operatorRequestPollMs?: number | null;
  /**
   * How many worker threads a full verification may use (default 4; at most the machine's
   * parallelism; 0: verify on the event loop, in slices, e.g. for a deterministic simulator).
   */
  readonly integrityWorkersMax?: number;
  /** Tests and the simulator only: a FaultInjector the store consults before every write. */
  readonly faults?: FaultInjector;
  /**
   * The command line acting as the owner for a moment (no owner runs): it runs with the
   * thresholds the database's last owner recorded (`thresholds` only when none ever did), and
   * records none of its own. An owner (the default) records its thresholds as it starts.
   */
  readonly actingOwner?: boolean;
  /**
   * The venues governor cancels everything at on SHUTDOWN and whose dead man's switch it renews
   * while the gate may open (names unique; copied once). Default none.
   */
  readonly venues?: readonly Venue[];
  /**
   * Whether `authorize({ reducesExposure: true })` is allowed in SHUTDOWN (default false: a
   * SHUTDOWN allows nothing; in OBSERVE_ONLY risk-reducing orders are always allowed).
   */
  readonly allowRiskReducingInShutdown?: boolean;
  /**
   * The fleet authority (PostgreSQL, docs/fleet.md): the gate also needs a lease renewed by a
   * round trip at least every `leaseMs / 3`; a kill of a scope this host is in shuts it down.
   * Without it nothing changes (the local file is the only authority).
   */
  readonly authority?: AuthorityOptions;
}

/** What `authorize()` is asked about. */
export interface AuthorizeOptions {
  /** The order only reduces exposure (closes, hedges, cancels): allowed in OBSERVE_ONLY too. */
  readonly reducesExposure?: boolean;
}

export type { Authorization, Cause } from './authority.js';

/** A state's reason in bytes: the store's 4 KiB less room for an operator's name and prefix. */
const STATE_REASON_BYTES_MAX = LIMITS.reasonBytesMax - LIMITS.identifierBytesMax - 64;

const ALLOWED: Authorization = Object.freeze({
  allowed: true,
  state: 'AGGRESSIVE',
  reason: 'AGGRESSIVE with a fresh heartbeat lease',
});

/** How long a governor write waits for another connection's lock before it fails. */
export const STORE_BUSY_TIMEOUT_MS = 250;

/**
 * What a simulated crash (kill -9) calls; exported for `trading-governor/testing` only.
 * @internal
 */
export const SIMULATE_CRASH: unique symbol = Symbol('governor.simulateCrash');
/**
 * The raw SQLite handle, for `trading-governor/testing`'s real-fault injection only.
 * @internal
 */
export const RAW_CONNECTION: unique symbol = Symbol('governor.rawConnection');
/**
 * Makes governor's own state inconsistent, for `trading-governor/testing` only.
 * @internal
 */
export const FORCE_INCONSISTENCY: unique symbol = Symbol('governor.forceInconsistency');

/**
 * Puts the shutdown's CRITICAL alert back in a transaction of its own, after the latch's (the
 * former two-commit path), or not: for bench/detection.ts only, which times both in one run.
 * @internal
 */
export const ALERT_IN_ITS_OWN_TRANSACTION: unique symbol = Symbol(
  'governor.alertInItsOwnTransaction',
);

/** The raw SQLite handle's type, as the store gives it (no import of SQLite here). */
type RawDatabase = ReturnType<Store['rawHandleForFaultInjection']>;

/** The latch assumed when the record cannot be read: in doubt, stay shut down. */
const UNREADABLE_LATCH: ShutdownLatch = {
  trigger: 'UNRECOVERABLE_EXCEPTION',
  reason: 'system state unreadable',
  at: new Date(0).toISOString(),
};

/** Every option, each read once from the caller's object (persistence/plain-copy.ts). */
const OPTION_KEYS = [
  'dbPath',
  'enableProductionHardening',
  'thresholds',
  'desiredMode',
  'clock',
  'logger',
  'alertSinks',
  'alertDelivery',
  'handleProcessErrors',
  'latchUncaughtExceptions',
  'inspect',
  'operatorRequestPollMs',
  'integrityWorkersMax',
  'faults',
  'actingOwner',
  'venues',
  'allowRiskReducingInShutdown',
  'authority',
] as const satisfies ReadonlyArray<keyof GovernanceSystemOptions>;
/** Compiles only while OPTION_KEYS names every option: an option left out would be dropped. */
const OPTION_KEYS_COMPLETE: [
  Exclude<keyof GovernanceSystemOptions, (typeof OPTION_KEYS)[number]>,
] extends [never]
  ? true
  : never = true;
void OPTION_KEYS_COMPLETE;

/** The caller's options as one plain copy; the process-error options checked. */
function readOptions(given: GovernanceSystemOptions): GovernanceSystemOptions {
  const options = readFields('options', given, OPTION_KEYS) as GovernanceSystemOptions;
  for (const key of ['handleProcessErrors', 'latchUncaughtExceptions'] as const) {
    const value: unknown = options[key];
    if (value !== undefined && typeof value !== 'boolean') {
      throw new GovernorError('GOV_INVALID_CONFIG', `${key}: expected true or false`, { key });
    }
  }
  if (options.handleProcessErrors === true && options.latchUncaughtExceptions === false) {
    throw new GovernorError(
      'GOV_INVALID_CONFIG',
      'latchUncaughtExceptions: false cannot be combined with handleProcessErrors: true, which latches every uncaught exception',
      { key: 'latchUncaughtExceptions' },
    );
  }
  return options;
}

function checkPollMs(value: number | null | undefined): number | null {
  if (value === null) return null;
  const pollMs = value ?? REQUEST_POLL_MS_DEFAULT;
  const [min, max] = REQUEST_POLL_MS_RANGE;
  if (!Number.isSafeInteger(pollMs) || pollMs < min || pollMs > max) {
    throw new GovernorError(
      'GOV_INVALID_CONFIG',
      `operatorRequestPollMs: expected an integer from ${min} to ${max}, or null`,
      { key: 'operatorRequestPollMs' },
    );
  }
  return pollMs;
}

export class GovernanceSystem {
  /** What the engine reports to (spec: `healthMonitor.update*`, `recordError`, health). */
  readonly healthMonitor: HealthMonitorView;
  /** The spec's fail-safe calls: check, trigger, and the shutdown state. */
  readonly failSafeManager: FailSafeManagerView;
  /** The alerts raised (read), their acknowledgement and delivery status. */
  readonly alertManager: AlertManagerView;
  /** The last verification's findings (read); `checkDataIntegrity()` acts on them. */
  readonly dataIntegrityVerifier: DataIntegrityVerifierView;
  readonly thresholds: Thresholds;
  /** Whose thresholds these are: this owner's own, or (acting owner) the last owner's record. */
  readonly thresholdsOrigin: ThresholdsOrigin;
  readonly dbPath: string;
  /** Where the engine writes its events, snapshots, capital and strategies (stamps health on commit). */
  readonly engine: EnginePort;

  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly store: Store;
  private readonly health: HealthMonitor;
  private readonly failSafe: FailSafeManager;
  private readonly alerts: AlertManager;
  private readonly verifier: DataIntegrityVerifier;
  private readonly scrubber: IntegrityScrubber;
  /** Aborts a verification still walking (on close): a closed governor leaves no worker behind. */
  private readonly verifications = new AbortController();
  private readonly journal: ModeJournal;
  private readonly ownerLock: OwnerLock | null;
  private readonly gate: Gate;
  private readonly lifecycle: Lifecycle;
  /** The checks after every machine step (invariants.ts). */
  private readonly invariants: InvariantGuard;
  private readonly effects: Effects;
  private readonly incidents: Incidents;
  private readonly heartbeat: HeartbeatMonitor;
  private readonly watcher: RequestWatcher;
  private readonly fleet: FleetLink | null;
  private readonly leaseListeners = new Set<(view: LeaseView) => void>();
  private readonly configuredMode: Mode;
  private readonly fallbackPath: string | null;
  private readonly signature: string;
  private readonly venues: VenueGuard;
  private readonly allowRiskReducingInShutdown: boolean;
  /** The command line acting as the owner for a moment (no engine runs here): see the option. */
  private readonly actingOwner: boolean;
  private adapters: NamedAdapter[] | null = null;
  private closed = false;
  private monitorsStarted = false;
  private integrityTimer: ReturnType<Clock['setTimeout']> | undefined;
  private processHooksInstalled = false;
  /** Stops the default latch on an uncaught exception (process-errors.ts); null when opted out. */
  private unwatchUncaughtExceptions: (() => void) | null = null;
  /**
   * The first CHECKING visit of the process verifies the whole log; an operator's resume or
   * restart in the same process verifies from the head this process already verified. Damage
   * still outstanding always forces a full verification.
   */
  private nextVisitVerifiesFully = true;

  constructor(given: GovernanceSystemOptions = {}) {
    const options = readOptions(given);
    if (options.enableProductionHardening === false) {
      throw new GovernorError(
        'GOV_INVALID_CONFIG',
        'enableProductionHardening: governor is a safety system; its protections cannot be disabled',
      );
    }
    const configuredThresholds = resolveThresholds(options.thresholds ?? {});
    this.configuredMode = parseMode(options.desiredMode ?? 'AGGRESSIVE');
    const venues = checkVenues(options.venues);
    if (
      options.allowRiskReducingInShutdown !== undefined &&
      typeof options.allowRiskReducingInShutdown !== 'boolean'
    ) {
      throw new GovernorError(
        'GOV_INVALID_CONFIG',
        'allowRiskReducingInShutdown: expected a boolean',
        {
          key: 'allowRiskReducingInShutdown',
        },
      );
    }
    this.allowRiskReducingInShutdown = options.allowRiskReducingInShutdown === true;
    const pollMs = checkPollMs(options.operatorRequestPollMs);
    this.clock = options.clock ?? new SystemClock();
    this.logger = componentLogger(options.logger ?? silentLogger(), 'governor');
    this.dbPath = options.dbPath ?? './governor.db';
    this.fallbackPath = fallbackPathFor(this.dbPath);
    this.signature = processSignature('owner');
    this.ownerLock = acquireOwnerLock(this.dbPath, this.nowIso());
    if (this.ownerLock !== null) adoptSideFiles(this.dbPath, this.logger);
    try {
      // A short busy timeout: a write blocked by another process must not stall the embedding
      // program's event loop for long; a failed write is an operating error the fail-safe handles.
      this.store = Store.open(this.dbPath, {
        clock: this.clock,
        busyTimeoutMs: STORE_BUSY_TIMEOUT_MS,
        ...(options.faults === undefined ? {} : { faults: options.faults }),
      });
    } catch (error) {
      this.ownerLock?.release();
      throw error;
    }
    this.journal = new ModeJournal(this.store);
    let authority: AuthorityRecord;
    try {
      claimOwnerRow(this.journal, this.ownerLock, this.dbPath, this.logger);
      authority = this.journal.read();
      if (authority.lifecycleState === null) {
        try {
          this.journal.initialiseDesiredMode(this.configuredMode, 'initial');
          authority = this.journal.read();
        } catch (error) {
          if (!isGovernorError(error, 'GOV_STORAGE_FAILURE')) throw error;
          // Unwritable: the machine works towards the configured mode all the same.
          authority = { ...authority, desiredMode: this.configuredMode };
        }
      }
    } catch (error) {
      // A file damaged beyond reading system_state, or owned through another name: refuse with
      // the clear error, leaving no open handle behind.
      this.store.close();
      this.ownerLock?.release();
      throw error;
    }
    this.actingOwner = options.actingOwner === true;
    const effective = this.effectiveThresholds(configuredThresholds, this.actingOwner);
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
    this.venues = new VenueGuard(venues, {
      store: this.store,
      incidents: this.incidents,
      clock: this.clock,
      logger: componentLogger(this.logger, 'venues'),
      thresholds: this.thresholds,
      host: {
        mayRenew: () => this.mayRenewSwitches(),
        switchFired: (venue, reason) => {
          this.logger.fatal({ venue }, "a venue's dead man's switch may have fired");
          this.requestShutdown({ trigger: 'VENUE_DEAD_MANS_SWITCH_FIRED', reason });
        },
        switchDeadlineChanged: () => this.refreshGateDeadline(),
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
      onViolations: (violations) => {
        if (!this.closed) this.handleViolations(violations);
      },
      onError: (error) => {
        this.logger.error({ err: error }, 'the integrity scrub could not run a slice');
        this.health.recordError();
      },
    });
    this.gate = new Gate(this.clock);
    this.failSafe = new FailSafeManager(
      this.failSafeHost(),
      this.health,
      this.clock,
      this.thresholds,
    );
    this.healthMonitor = healthMonitorView(this.health);
    this.failSafeManager = failSafeManagerView(this.failSafe);
    this.alertManager = alertManagerView(this.alerts);
    this.dataIntegrityVerifier = dataIntegrityVerifierView(this.verifier);
    this.heartbeat = new HeartbeatMonitor(this.heartbeatHost(), this.clock, this.thresholds);
    this.fleet =
      options.authority === undefined
        ? null
        : new FleetLink(
            options.authority,
            this.dbPath,
            this.clock,
            componentLogger(this.logger, 'fleet'),
            this.fleetHost(),
          );
    // Every committed append is an event-log write, whoever made it (governor or the engine).
    this.store.events.onAppendCommitted(() => this.health.updateEventLogWriteTimestamp());
    this.health.setChangeListener((kind) => {
      if (kind === 'input') this.refreshGateDeadline();
      else this.failSafe.onHealthEvent();
    });
    this.engine = createEnginePort(this.store, this.health);
    this.restoreInputAges(authority);
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
      closed: () => this.closed,
      broken: (reason) => {
        this.logger.fatal({ invariant: reason }, 'an invariant broke after a machine step');
        this.requestShutdown({
          trigger: 'INVARIANT_VIOLATED',
          reason: `invariant violated: ${reason}`,
        });
      },
    });
    const logTransition = transitionLogger(componentLogger(this.logger, 'machine'));
    const inspect = options.inspect;
    this.lifecycle = new Lifecycle(
      {
        enter: (from, to, context) => {
          this.effects.enter(from, to, context);
          if (to === 'SHUTDOWN')
            this.invariants.recordedLatch.persisted(this.effects.persistedTo !== null);
        },
        settled: () => {
          this.invariants.check();
          this.effects.tellListeners();
        },
        restarted: (event) => {
          this.invariants.recordedLatch.began(event.authority.latch);
          announceRestart(this.effects, this.logger, event);
        },
        openGate: () => this.gate.setOpen(!this.closed),
        closeGate: () => this.gate.setOpen(false),
        startupChecks: (input) => this.performStartupChecks(input),
        failed: (error) => this.onLifecycleFailed(error),
      },
      this.clock,
      inspect === undefined
        ? logTransition
        : (event) => {
            logTransition(event);
            inspect(event);
          },
    );
    this.watcher = new RequestWatcher(this.store, this.commandTarget(), {
      logger: componentLogger(this.logger, 'requests'),
      wallNow: () => this.clock.wallNow(),
      handledBy: this.signature,
      onExternalChange: () => this.honourExternalLatch(),
    });
    this.beginLifecycle(authority);
    if (options.handleProcessErrors === true) this.installProcessHooks();
    if (options.latchUncaughtExceptions !== false) {
      this.unwatchUncaughtExceptions = watchUncaughtExceptions(this.latchUncaughtException);
    }
    void this.watcher.drain();
    if (pollMs !== null) this.watcher.start(pollMs);
  }

  // ---------------------------------------------------------------------------------------
  // The gate (hot path)

  /** True only in AGGRESSIVE, before the gate's deadline (heartbeat lease, input staleness). */
  canDeployCapital(): boolean {
    return this.gate.canDeployCapital();
  }

  /**
   * The gate's decision with its reason. An order that only reduces exposure
   * (`reducesExposure: true`) is also allowed in OBSERVE_ONLY, and in SHUTDOWN only with
   * `allowRiskReducingInShutdown`.
   */
  authorize(options?: AuthorizeOptions): Authorization {
    // One clock read: the decision and its reason judge the same instant.
    const nowMs = this.clock.monotonicNow();
    if (this.gate.canDeployCapitalAt(nowMs)) return ALLOWED;
    if (this.closed)
      return { allowed: false, state: this.getState(), reason: 'governor is closed' };
    const state = this.lifecycle.state;
    const context = this.lifecycle.context;
    // No default object for `options`: the allowed path allocates nothing.
    const reducing = options?.reducesExposure === true;
    if (state === 'SHUTDOWN') {
      const latch = this.lifecycle.latch;
      const why = `SHUTDOWN (${latch?.trigger ?? 'latched'}): ${latch?.reason ?? ''}`;
      if (reducing && this.allowRiskReducingInShutdown) {
        return { allowed: true, state, reason: `risk-reducing order allowed in ${why}` };
      }
      return { allowed: false, state, reason: why };
    }
    if (state === 'OBSERVE_ONLY') {
      const why = `OBSERVE_ONLY (${context.observeCause}): ${context.causeReason ?? ''}`;
      if (reducing)
        return { allowed: true, state, reason: `risk-reducing order allowed in ${why}` };
      return { allowed: false, state, reason: why };
    }
    if (state !== 'AGGRESSIVE') {
      return { allowed: false, state, reason: `${state}: not yet AGGRESSIVE` };
    }
    return { allowed: false, state, reason: this.deadlineReason(nowMs) };
  }

  // ---------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * Runs the lifecycle from STARTING: the startup checks (pinging the given adapters). Resolves
   * true only when AGGRESSIVE, or a configured OBSERVE_ONLY, was reached with every check
   * passed; false at once when a latch holds the machine in SHUTDOWN.
   */
  async runStartupChecks(adapters?: AdaptersArgument): Promise<boolean> {
    this.assertOpen();
    const named = normaliseAdapters(adapters);
    const state = this.lifecycle.state;
    if (state === 'SHUTDOWN') {
      // Latched from the start: an operator restart from another process runs the new
      // lifecycle with these adapters (without them it would stay in STARTING).
      this.adapters = named;
      return false;
    }
    if (state !== 'STARTING') {
      throw new GovernorError('GOV_LIFECYCLE_RUNNING', `a lifecycle is running (state ${state})`);
    }
    this.adapters = named;
    this.startMonitors();
    // The fleet authority is a startup check: no lease, no gate (a killed scope fails it too).
    const fleet = this.fleet;
    if (fleet !== null && !this.adapters.some((a) => a.name === 'fleet-authority')) {
      this.adapters = [...this.adapters, { name: 'fleet-authority', ping: () => fleet.ping() }];
    }
    // A restart into stale inputs (or a SHUTDOWN disarmed deadline) never opens the gate:
    // re-arm detection and evaluate the fail-safe first.
    this.failSafe.arm();
    this.failSafe.checkFailSafeConditions({ includeCapital: false });
    if (this.lifecycle.state === 'STARTING') this.send({ type: 'lifecycle.start' });
    // A heartbeat still lost (since before an operator restart) is a loss of this lifecycle too.
    if (this.heartbeat.isLost()) this.onHeartbeatLost(this.heartbeat.ageMs());
    const settled = await this.lifecycle.settled();
    return (
      settled === 'AGGRESSIVE' ||
      (settled === 'OBSERVE_ONLY' && this.lifecycle.context.observeCause === 'CONFIGURED')
    );
  }

  /** The lifecycle state (STARTING, CHECKING, AGGRESSIVE, OBSERVE_ONLY, SHUTDOWN), from the machine. */
  getState(): LifecycleState {
    return this.lifecycle.state;
  }

  /**
   * @deprecated Use `getState()`: this returns the lifecycle state, while a `Mode` is the
   * desired mode (AGGRESSIVE or OBSERVE_ONLY, `getModes()`). Kept for embedders written
   * against it.
   */
  getMode(): LifecycleState {
    return this.getState();
  }

  getLifecycleId(): string {
    return this.lifecycle.context.lifecycleId;
  }

  getSystemHealth(): SystemHealth {
    return this.health.getSystemHealth();
  }

  /** The report of the last CHECKING visit of this lifecycle, or null. */
  getLastStartupReport(): StartupReport | null {
    return this.lifecycle.context.report;
  }

  /** Why the machine is where it is. */
  getCause(): Cause {
    const state = this.getState();
    const context = this.lifecycle.context;
    if (state === 'SHUTDOWN') {
      const latch = this.lifecycle.latch;
      return { cause: null, trigger: latch?.trigger ?? null, reason: latch?.reason ?? null };
    }
    if (state === 'OBSERVE_ONLY') {
      return { cause: context.observeCause, trigger: null, reason: context.causeReason };
    }
    return { cause: null, trigger: null, reason: null };
  }

  /**
   * The status view: state, gate and reason, cause, latch, hold, health, heartbeat, the last
   * startup report and the unacknowledged alerts, read at once (docs/api.md). What `governor
   * status`, the health API and the status page show.
   */
  status(): GovernorStatus {
    return liveStatus(this);
  }

  /** The SHUTDOWN latch in force, or null. */
  getLatch(): ShutdownLatch | null {
    return this.lifecycle.latch;
  }

  /** The failure held (OBSERVE_ONLY until an operator resumes), or null. */
  getHold(): GovernorContext['hold'] {
    return this.lifecycle.context.hold;
  }

  /** The desired mode the machine works towards, and the configured ceiling. */
  getModes(): { desired: Mode; configured: Mode } {
    const context = this.lifecycle.context;
    return { desired: context.desiredMode, configured: context.configuredMode };
  }

  /**
   * The fleet authority lease (null without the `authority` option): its status, end and
   * epochs. What a venue's dead man's switch renewal asks: renew only while `status` is 'held'.
   */
  authorityLease(): LeaseView | null {
    return this.fleet?.lease.view() ?? null;
  }

  /**
   * Registers a listener told of each change of the fleet lease (granted, fenced by a kill,
   * lost, regained); returns its remover. The lease's end passes without a call: compare
   * `leaseEndsAtMs` with the monotonic clock, or ask `authorityLease()`.
   */
  onAuthorityLease(listener: (view: LeaseView) => void): () => void {
    if (typeof listener !== 'function') {
      throw new GovernorError('GOV_INVALID_ARGUMENT', 'onAuthorityLease: expected a function');
    }
    this.leaseListeners.add(listener);
    return () => this.leaseListeners.delete(listener);
  }

  heartbeatAgeMs(): number {
    return this.heartbeat.ageMs();
  }

  /** Registers a listener told after each mode change is persisted; returns its remover. */
  onModeChange(listener: ModeChangeListener): () => void {
    if (typeof listener !== 'function') {
      throw new GovernorError('GOV_INVALID_ARGUMENT', 'onModeChange: expected a function');
    }
    return this.effects.addListener(listener);
  }

  /**
   * Registers a listener told, synchronously, of each alert governor raises (after it was
   * stored, or kept in memory when it could not be); returns its remover. Sinks deliver it too.
   */
  onAlert(listener: (alert: GovernorAlert) => void): () => void {
    if (typeof listener !== 'function') {
      throw new GovernorError('GOV_INVALID_ARGUMENT', 'onAlert: expected a function');
    }
    return this.alerts.onRaise(listener);
  }

  /**
   * Verifies data integrity (incrementally after the first run). A capital mismatch shuts
   * down (CAPITAL_INCONSISTENT); any other violation moves CHECKING or AGGRESSIVE to
   * OBSERVE_ONLY. Both need an operator. Returns true when nothing was found.
   */
  checkDataIntegrity(): boolean {
    this.assertOpen();
    let violations: IntegrityViolation[];
    try {
      violations = this.verifier.verify();
    } catch (error) {
      this.logger.error({ err: error }, 'integrity verification could not run');
      this.health.recordError();
      return false;
    }
    if (violations.length === 0) return true;
    // One incident per finding: what an earlier run already reported is not raised again.
    if (this.verifier.getNewViolations().length > 0) this.handleViolations(violations);
    return false;
  }

  // ---------------------------------------------------------------------------------------
  // Operator actions: each names who and why, and is audited.

  /**
   * The kill switch: SHUTDOWN now, from any state, through the machine (the gate closes first,
   * then the latch is persisted). Works even when the audit cannot be written.
   */
  operatorShutdown(request: OperatorRequest): void {
    const checked = checkOperatorRequest(request, 'shutdown');
    this.assertOpen();
    const from = this.lifecycle.state;
    if (from !== 'SHUTDOWN') this.send({ type: 'operator.shutdown', ...checked });
    this.audit(checked, 'SHUTDOWN', from, null);
  }

  /** CHECKING or AGGRESSIVE → OBSERVE_ONLY (before a lifecycle: OBSERVE_ONLY is desired). */
  operatorObserve(request: OperatorRequest): void {
    const checked = checkOperatorRequest(request, 'observe');
    this.assertOpen();
    const state = this.lifecycle.state;
    this.assertAccepted({ type: 'operator.observe', ...checked, at: this.nowIso() }, 'observe');
    this.send({ type: 'operator.observe', ...checked });
    this.audit(checked, 'OBSERVE', state, (writes) => writes.setDesiredMode('OBSERVE_ONLY'));
  }

  /**
   * OBSERVE_ONLY → CHECKING: the only way back toward AGGRESSIVE (never above the configured
   * mode). Clears a held failure. Resolves like `runStartupChecks` once the new checks settle.
   */
  async operatorResume(request: OperatorRequest): Promise<boolean> {
    const checked = checkOperatorRequest(request, 'resume');
    this.assertOpen();
    const event: GovernorEvent = { type: 'operator.resume', ...checked, at: this.nowIso() };
    this.assertAccepted(event, 'resume');
    this.audit(checked, 'RESUME', 'OBSERVE_ONLY', (writes) => {
      writes.setDesiredMode('AGGRESSIVE');
      writes.clearHold();
    });
    clearFallbackHold(this.fallbackPath, event.at);
    this.incidents.resolveSafeMode();
    this.lifecycle.send(event);
    const settled = await this.lifecycle.settled();
    return settled === 'AGGRESSIVE';
  }

  /**
   * The thresholds this process runs with. An owner records its own (configured) ones in the
   * authority record; an acting owner takes the ones the last owner recorded, so that a restart
   * with no owner running pre-flights as the owner would, whatever this command's environment.
   */
  private effectiveThresholds(
    configured: Thresholds,
    actingOwner: boolean,
  ): { thresholds: Thresholds; origin: ThresholdsOrigin } {
    if (this.ownerLock === null) return { thresholds: configured, origin: { source: 'owner' } };
    if (!actingOwner) {
      try {
        this.journal.recordOwnerThresholds({
          pid: process.pid,
          host: hostname(),
          recordedAt: this.nowIso(),
          thresholds: { ...configured },
        });
      } catch (error) {
        if (!isGovernorError(error, 'GOV_STORAGE_FAILURE')) throw error;
        this.logger.error({ err: error }, 'the owner thresholds could not be recorded');
      }
      return { thresholds: configured, origin: { source: 'owner' } };
    }
    let recorded: OwnerThresholds | 'none' | 'unusable' = 'unusable';
    try {
      recorded = this.journal.readOwnerThresholds();
    } catch (error) {
      if (!isGovernorError(error, 'GOV_STORAGE_FAILURE')) throw error;
    }
    if (typeof recorded === 'string') {
      return { thresholds: configured, origin: { source: 'command', recorded } };
    }
    try {
      return {
        thresholds: resolveThresholds(recorded.thresholds, 'recorded owner thresholds'),
        origin: {
          source: 'recorded',
          pid: recorded.pid,
          host: recorded.host,
          recordedAt: recorded.recordedAt,
        },
      };
    } catch (error) {
      // A record this version cannot use (a renamed or out-of-range threshold): say so, use ours.
      this.logger.warn({ err: error }, 'the recorded owner thresholds are not usable');
      return { thresholds: configured, origin: { source: 'command', recorded: 'unusable' } };
    }
  }

  /**
   * What a restart now would run into: the fail-safe rules on the inputs as they are (a trigger
   * that would fire at once), and capital reconciliation. Read-only; cheap.
   */
  preflightRestart(): PreflightReport {
    this.assertOpen();
    return preflight({
      health: this.health,
      thresholds: this.thresholds,
      thresholdsOrigin: this.thresholdsOrigin,
      capitalMismatch: () => this.failSafeHost().capitalMismatch(),
      heartbeatLost: this.heartbeat.isLost(),
    });
  }

  /**
   * Clears the SHUTDOWN latch (and any held failure) in the name of an operator; accepted only
   * while a latch is in force, and only when the pre-flight finds nothing that would shut it
   * down again at once (`GOV_RESTART_WOULD_TRIP`, naming it), unless `force`. A new lifecycle
   * begins at STARTING: `runStartupChecks` must pass CHECKING again.
   */
  operatorRestart(request: OperatorRequest, options: { force?: boolean } = {}): void {
    const checked = checkOperatorRequest(request, 'restart');
    this.assertOpen();
    const latch = this.lifecycle.latch;
    if (latch === null) {
      throw new GovernorError(
        'GOV_INVALID_OPERATOR_ACTION',
        `restart is possible only in SHUTDOWN, with a latch in force (governor is ${this.lifecycle.state}); nothing was changed`,
        { state: this.lifecycle.state },
      );
    }
    const force = readFields('options', options, ['force']).force === true;
    if (!force) {
      const report = this.preflightRestart();
      // The command carrying a restart out with no owner running: nothing restarts now, and the
      // inputs nothing reports are stale by the downtime. The next start judges the inputs its
      // engine reports; capital stays wrong.
      const trips = this.actingOwner
        ? report.trips.filter((trip) => trip.trigger === 'CAPITAL_INCONSISTENT')
        : report.trips;
      if (trips.length > 0) {
        throw new GovernorError(
          'GOV_RESTART_WOULD_TRIP',
          `restart refused, nothing was changed: it would shut down again at once: ${trips.map((t) => `${t.trigger}: ${t.reason}`).join('; ')}. Fix that first, or restart with --force`,
          { preflight: { ...report, ok: false, trips } },
        );
      }
    }
    const at = this.nowIso();
    const lifecycleId = randomUUID();
    this.audit(checked, 'RESTART', 'SHUTDOWN', (writes) => {
      writes.clearLatch({ operator: checked.operator, reason: checked.reason, at });
      writes.clearHold();
      writes.setLifecycle('STARTING', lifecycleId);
    });
    retireFallbackRecord(this.fallbackPath, at);
    this.venues.onRestart();
    this.incidents.resolveAll();
    // The chart leaves the latch: halted → a new lifecycle, from the authority recorded now.
    this.restartLifecycle(restartEvent(checked, { at, lifecycleId, passed: !force, force }));
  }

  /**
   * An operator's audited correction of capital records (after CAPITAL_INCONSISTENT): moves one
   * account's balance (or, with no account, the pool's total) by a signed number of minor
   * units, in one transaction with its audit row and a CAPITAL_CORRECTED event. Any state.
   * Returns the pool's reconciliation before and after.
   */
  operatorAdjustCapital(
    request: OperatorRequest,
    correction: { poolId: string; accountId?: string | null; amountMinor: bigint },
  ): { before: PoolBalance; after: PoolBalance; reconciled: boolean } {
    const checked = checkOperatorRequest(request, 'capital adjust');
    this.assertOpen();
    const given = readFields('correction', correction, ['poolId', 'accountId', 'amountMinor']);
    const poolId = given.poolId as string;
    const amountMinor = given.amountMinor;
    const accountId = (given.accountId ?? null) as string | null;
    if (typeof amountMinor !== 'bigint' || amountMinor === 0n) {
      throw new GovernorError('GOV_INVALID_AMOUNT', 'capital adjust: expected a non-zero amount');
    }
    let corrected: { before: PoolBalance; after: PoolBalance } | null = null;
    this.journal.recordOperatorAction(
      {
        operator: checked.operator,
        reason: checked.reason,
        action: 'ADJUST_CAPITAL',
        state: this.lifecycle.state,
        lifecycleId: this.getLifecycleId(),
      },
      (writes) => {
        corrected = writes.correctCapital(poolId, accountId, amountMinor);
      },
    );
    const result = corrected as { before: PoolBalance; after: PoolBalance } | null;
    if (result === null) throw new AssertionError('capital correction without a result');
    this.logger.warn(
      { operator: checked.operator, poolId, accountId, amountMinor: amountMinor.toString() },
      'operator capital correction',
    );
    return { ...result, reconciled: result.after.differenceMinor === 0n };
  }

  /** Acknowledges an alert in the name of an operator. */
  acknowledgeAlert(alertId: string, operator: string): unknown {
    this.assertOpen();
    const acknowledged = this.alerts.acknowledge(alertId, operator);
    // A venue's not-flat alert acknowledged: governor stops cancelling there.
    this.venues.acknowledged(alertId, operator);
    return acknowledged;
  }

  /**
   * Carries out the operator commands other processes recorded in the database (normally done
   * by a timer within `operatorRequestPollMs`). Resolves with how many were carried out.
   */
  pollOperatorRequests(): Promise<number> {
    this.assertOpen();
    return this.watcher.drain();
  }

  /** Stops timers and the machine, records the stop, and closes the database. Idempotent. */
  close(): void {
    if (this.closed) return;
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
      this.journal.releaseOwner(process.pid, this.nowIso());
    } catch (error) {
      this.logger.warn({ err: error }, 'owner row could not be released');
    }
    this.store.close();
    this.ownerLock?.release();
  }

  /**
   * Opens a second connection to this system's database, read-only (SQLite refuses every
   * write through it, and it never migrates), for readers such as the health API. Null for a
   * `:memory:` database, which no second connection can see. The caller closes it.
   * @internal
   */
  openReadOnlyStore(): Store | null {
    if (this.dbPath === ':memory:') return null;
    return Store.open(this.dbPath, { readonly: true });
  }

  /**
   * The raw SQLite handle, to inject real storage faults (governor/testing).
   * @internal
   */
  [RAW_CONNECTION](): RawDatabase {
    return this.store.rawHandleForFaultInjection();
  }

  /**
   * Breaks an invariant without a step: the gate's flag opened, or a latch marked as recorded.
   * The next machine step finds it (governor/testing).
   * @internal
   */
  [FORCE_INCONSISTENCY](kind: Inconsistency): void {
    forceInconsistency(kind, { gate: this.gate, invariants: this.invariants });
  }

  /**
   * The former two-commit incident path on (true) or off (bench/detection.ts only).
   * @internal
   */
  [ALERT_IN_ITS_OWN_TRANSACTION](on: boolean): void {
    this.effects.alertInItsOwnTransaction = on;
  }

  /**
   * Dies like kill -9: no write, timers stopped, lock freed (governor/testing).
   * @internal
   */
  [SIMULATE_CRASH](): void {
    if (this.closed) return;
    this.venues.close(false);
    this.stopRunning();
    this.alerts.stop();
    this.store.close();
    this.ownerLock?.release();
  }

  /** The gate shut for good, every timer, worker and hook stopped: what close and a crash share. */
  private stopRunning(): void {
    this.closed = true;
    this.gate.setOpen(false);
    this.watcher.stop();
    this.heartbeat.stop();
    this.fleet?.stop();
    this.failSafe.stop();
    this.scrubber.stop();
    this.verifications.abort();
    this.clock.clearTimeout(this.integrityTimer);
    this.lifecycle.stop();
    this.removeProcessHooks();
  }

  // ---------------------------------------------------------------------------------------
  // Internals: ownership and the authority record

  /** The authority record, or (when it cannot be read) one with a latch: in doubt, shut down. */
  private readAuthority(): AuthorityRecord {
    try {
      return this.journal.read();
    } catch (error) {
      this.logger.fatal({ err: error }, 'the authority record cannot be read; staying shut down');
      return {
        desiredMode: 'OBSERVE_ONLY',
        lifecycleState: null,
        lifecycleId: null,
        latch: UNREADABLE_LATCH,
        loggedLatch: null,
        discrepancy: null,
        hold: null,
        inputsText: null,
        owner: null,
      };
    }
  }

  private beginLifecycle(authority: AuthorityRecord, lifecycleId = randomUUID()): void {
    const { latch, hold } = authorityInForce(authority, readFallbackRecord(this.fallbackPath));
    this.invariants.recordedLatch.began(latch);
    this.lifecycle.begin({
      lifecycleId,
      configuredMode: this.configuredMode,
      desiredMode: authority.desiredMode,
      latch,
      hold,
      startupChecksTimeoutMs: this.thresholds.startupChecksTimeoutMs,
    });
    if (authority.discrepancy !== null && latch !== null) {
      this.logger.fatal({ discrepancy: authority.discrepancy }, 'shutdown latch tampered with');
      this.incidents.latchDiscrepancy(latch, authority.discrepancy);
    }
  }

  /** Sends the restart to the chart, with the authority (latch, hold) the record holds now. */
  private restartLifecycle(event: Omit<OperatorRestartEvent, 'authority'>): void {
    const authority = this.readAuthority();
    const { latch, hold } = authorityInForce(authority, readFallbackRecord(this.fallbackPath));
    this.lifecycle.send({
      ...event,
      authority: { desiredMode: authority.desiredMode, latch, hold },
    });
  }

  /** A latch written into the database by another process (outside governor) is honoured now. */
  private honourExternalLatch(): void {
    if (this.closed || this.lifecycle.state === 'SHUTDOWN') return;
    let recorded: ShutdownLatch | null;
    try {
      recorded = this.journal.readLatch();
    } catch {
      return;
    }
    if (recorded === null) return;
    this.logger.fatal(
      { latch: recorded },
      'a latch was recorded in the database by another process',
    );
    this.requestShutdown({
      trigger: recorded.trigger,
      reason: `latch recorded in the database by another process: ${recorded.reason}`,
    });
  }

  /**
   * Starts the input ages from the record (aged by the wall time since), and records them at
   * once: a process that dies before its first heartbeat leaves the next one these ages, not
   * the older record's, which a wall clock set back could make look fresher.
   */
  private restoreInputAges(authority: AuthorityRecord): void {
    restoreInputAges(this.health, authority.inputsText, {
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

  // ---------------------------------------------------------------------------------------
  // Internals: the machine and its effects

  private send(
    event:
      | { type: 'lifecycle.start' }
      | { type: 'operator.shutdown' | 'operator.observe'; operator: string; reason: string }
      | { type: 'failsafe.triggered'; trigger: ShutdownTrigger; reason: string }
      | { type: 'heartbeat.lost' | 'integrity.violated' | 'authority.lost'; reason: string },
  ): void {
    // A reason from the engine or an exception has no bound of its own; a shutdown still lands
    // whatever its length. The state's reason is cut so that, with what the machine prefixes
    // ("operator NAME: "), it fits what the store keeps: the latch then reaches SQLite.
    const bounded =
      'reason' in event
        ? { ...event, reason: clipBytes(event.reason, STATE_REASON_BYTES_MAX) }
        : event;
    this.lifecycle.send({ ...bounded, at: this.nowIso() } as GovernorEvent);
  }

  private nowIso(): string {
    return new Date(this.clock.wallNow()).toISOString();
  }

  private async performStartupChecks(input: StartupChecksInput): Promise<StartupReport> {
    const report = await runStartupCheckSuite(
      {
        store: this.store,
        verifier: this.verifier,
        clock: this.clock,
        adapterPingTimeoutMs: this.thresholds.adapterPingTimeoutMs,
        // Damage seen and not yet cleared by a full check needs a full check to clear it.
        fullVerification:
          this.nextVisitVerifiesFully || this.verifier.getLastViolations().length > 0,
        signal: this.verifications.signal,
      },
      [...(this.adapters ?? []), ...this.venues.asAdapters()],
      input,
    );
    this.nextVisitVerifiesFully = false;
    return this.persistReport(report);
  }

  /** A report that cannot be persisted does not pass: nothing unrecorded may open the gate. */
  private persistReport(report: StartupReport): StartupReport {
    try {
      this.store.transaction(() => {
        this.store.events.append({
          eventType: 'STARTUP_CHECKS_COMPLETED',
          reason: report.passed ? 'startup checks passed' : 'startup checks failed',
          metadata: {
            lifecycleId: report.lifecycleId,
            visit: report.visit,
            passed: report.passed,
            results: report.results,
          },
        });
        this.store.startupReports.record(report);
      });
      return report;
    } catch (error) {
      const failed: StartupCheckResult = {
        name: 'report_persisted',
        outcome: 'failed',
        passed: false,
        details: `startup report could not be persisted: ${describeError(error)}`,
        rootCause: 'the event log cannot be written',
        recommendedAction: 'Check the database file, disk space and permissions.',
      };
      return { ...report, passed: false, results: [...report.results, failed] };
    }
  }

  /** The machine failed (a bug in an action): a new lifecycle shuts down through the machine. */
  private onLifecycleFailed(error: unknown): void {
    this.gate.setOpen(false);
    this.logger.fatal({ err: error }, 'the lifecycle machine failed');
    if (this.closed) return;
    queueMicrotask(() => {
      if (this.closed) return;
      this.beginLifecycle(this.readAuthority());
      this.requestShutdown({
        trigger: 'UNRECOVERABLE_EXCEPTION',
        reason: `lifecycle machine failed: ${describeError(error)}`,
      });
    });
  }

  private requestShutdown(decision: TriggerDecision): void {
    if (this.closed || this.lifecycle.state === 'SHUTDOWN') return;
    this.send({ type: 'failsafe.triggered', trigger: decision.trigger, reason: decision.reason });
  }

  /**
   * Why the gate closed by its deadline in AGGRESSIVE (before the machine reacted): each rule
   * past its limit at `nowMs`, judged by the comparison the deadline was computed with.
   */
  private deadlineReason(nowMs: number): string {
    const leaseEnd = this.fleet?.lease.leaseEndsAtMs ?? Number.POSITIVE_INFINITY;
    if (nowMs >= leaseEnd) {
      return `fleet authority lease ended ${exactDuration(nowMs - leaseEnd)} ago: no capital until a renewal is granted`;
    }
    const lossMs = this.thresholds.heartbeatLossMs;
    const lastBeatMs = this.heartbeat.lastSuccessMonotonicMs();
    if (isStale(nowMs, lastBeatMs, lossMs)) {
      const since =
        lastBeatMs === Number.NEGATIVE_INFINITY
          ? 'no successful heartbeat yet in this process'
          : `no successful heartbeat for ${exactDuration(nowMs - lastBeatMs)} (threshold ${exactDuration(lossMs)})`;
      return `heartbeat lease expired (${since}): no capital until a heartbeat succeeds and the machine decides`;
    }
    const lapsed = this.venues.lapsedSwitch();
    if (lapsed !== null) {
      return `${lapsed.venue}: dead man's switch not renewed within ${exactDuration(lapsed.timeoutMs)}: no capital, the venue may have cancelled every order`;
    }
    const reasons = staleRuleReasons(this.health, this.thresholds, nowMs);
    // Unreachable while the deadline is the earliest of these same rules.
    if (reasons.length === 0)
      throw new AssertionError('the gate deadline passed with no rule broken');
    return `an input went stale (${reasons.join('; ')}): no capital until the machine decides`;
  }

  private refreshGateDeadline(): void {
    // The gate's deadline is the last instant it may be open; a venue's switch and the fleet
    // lease end at an instant, when the gate must already be closed: 1 ms before each.
    this.gate.setDeadline(
      Math.min(
        this.heartbeat.leaseExpiresAtMs,
        nextStalenessDeadlineMs(this.health, this.thresholds),
        this.venues.switchDeadlineMs() - 1,
        (this.fleet?.lease.leaseEndsAtMs ?? Number.POSITIVE_INFINITY) - 1,
      ),
    );
  }

  /**
   * The switches are renewed while the gate may open (or soon may), the heartbeat is healthy and,
   * in a fleet, the authority's lease is held.
   */
  private mayRenewSwitches(): boolean {
    if (this.closed) return false;
    const state = this.lifecycle.state;
    if (state !== 'CHECKING' && state !== 'AGGRESSIVE' && state !== 'OBSERVE_ONLY') return false;
    // Orders follow the fleet lease: a host that lost the authority stops renewing at once, so the
    // venues' own countdowns cancel its orders.
    const now = this.clock.monotonicNow();
    if (this.fleet !== null && now >= this.fleet.lease.leaseEndsAtMs) return false;
    return !this.heartbeat.isLost() && now < this.heartbeat.leaseExpiresAtMs;
  }

  /** Each registered venue: flat or not, open orders, last cancel latency, switch expiry (live). */
  venueStatus(): VenueStatus[] {
    return this.venues.status();
  }

  // ---------------------------------------------------------------------------------------
  // Internals: monitors and their hosts

  private startMonitors(): void {
    if (this.monitorsStarted) return;
    this.monitorsStarted = true;
    this.heartbeat.start();
    this.fleet?.lease.start();
    this.failSafe.start();
    this.scheduleIntegrityCheck();
    this.scrubber.start();
    this.venues.startRenewing();
  }

  /** The background scrub's progress (pass, rows checked, last pass completed), for metrics. */
  scrubProgress(): ReturnType<IntegrityScrubber['progress']> {
    return this.scrubber.progress();
  }

  private scheduleIntegrityCheck(): void {
    this.integrityTimer = this.clock.setTimeout(() => {
      if (this.closed) return;
      if (this.lifecycle.state !== 'SHUTDOWN') this.checkDataIntegrity();
      this.scheduleIntegrityCheck();
    }, this.thresholds.integrityCheckIntervalMs);
  }

  private failSafeHost() {
    return {
      lifecycleState: (): LifecycleState => this.getState(),
      failSafeState: (): FailSafeState => {
        const latch = this.lifecycle.latch;
        return {
          inShutdown: latch !== null,
          trigger: latch?.trigger ?? null,
          reason: latch?.reason ?? null,
          at: latch === null ? null : new Date(latch.at),
          latched: latch !== null,
          persistedTo: latch === null ? null : this.effects.persistedTo,
        };
      },
      shutdown: (decision: TriggerDecision): void => this.requestShutdown(decision),
      capitalMismatch: (): string | null => {
        const { mismatches } = this.store.capital.reconcile();
        if (mismatches.length === 0) return null;
        return mismatches
          .map(
            (m) =>
              `pool ${m.poolId}: total ${m.totalMinor} != accounts ${m.accountsSumMinor} (diff ${m.differenceMinor})`,
          )
          .join('; ');
      },
    };
  }

  private heartbeatHost() {
    return {
      writeHeartbeat: (): void => {
        this.checkOwnership();
        this.journal.recordHeartbeat(
          { heartbeat: true, uptime: this.health.getUptimeString() },
          this.inputsText(false),
        );
        // The database takes writes again: store the alerts it could not take before.
        this.alerts.storeUnpersisted();
      },
      heartbeatSucceeded: (): void => this.refreshGateDeadline(),
      heartbeatLost: (sinceMs: number): void => this.onHeartbeatLost(sinceMs),
      heartbeatRecovered: (): void => {
        this.logger.warn('heartbeat recovered; the mode stays as it is until an operator acts');
      },
      heartbeatFailed: (error: unknown): void => {
        this.logger.error({ err: error }, 'heartbeat could not be written');
        this.health.recordError();
      },
    };
  }

  /** What the fleet link needs of this governor (fleet-link.ts). */
  private fleetHost() {
    return {
      state: (): LifecycleState => this.getState(),
      gateOpen: (): boolean => this.canDeployCapital(),
      restartRefusal: (): string | null => {
        if (this.closed) return 'governor is closed';
        const report = this.preflightRestart();
        return report.ok ? null : report.trips.map((t) => `${t.trigger}: ${t.reason}`).join('; ');
      },
      refreshDeadline: (): void => this.refreshGateDeadline(),
      kill: (kill: { scope: string; epoch: number; changedBy: string; reason: string }): void => {
        if (this.closed || this.lifecycle.state === 'SHUTDOWN') return;
        this.logger.fatal(kill, 'fleet kill: this host is in a killed scope');
        const reason = `fleet kill of scope ${kill.scope} (epoch ${kill.epoch}): ${kill.reason}`;
        try {
          this.operatorShutdown({ operator: kill.changedBy, reason });
        } catch (error) {
          // An operator name the local checks refuse still shuts down (its audit aside).
          this.logger.error(
            { err: error },
            'fleet kill could not be audited as an operator action',
          );
          this.requestShutdown({
            trigger: 'OPERATOR_KILL',
            reason: `${kill.changedBy}: ${reason}`,
          });
        }
      },
      lost: (reason: string, sinceMs: number): void => {
        if (this.closed) return;
        const state = this.lifecycle.state;
        if (state === 'SHUTDOWN') return;
        // A loss held from earlier (this process or one before a restart) is the same incident:
        // its alert was raised then and stays until an operator resumes.
        const alerted = this.lifecycle.context.hold?.cause === 'AUTHORITY_LOST';
        if (state === 'CHECKING' || state === 'AGGRESSIVE') {
          this.send({ type: 'authority.lost', reason });
        }
        if (alerted) {
          this.logger.warn({ sinceMs, state }, 'fleet authority still lost (held, alerted before)');
          return;
        }
        this.incidents.authorityLoss(reason, this.getLifecycleId(), { sinceMs, state });
      },
      queueUsageHigh: (usage: number): void => {
        if (!this.closed) this.incidents.authorityQueue(usage, this.getLifecycleId());
      },
      leaseEnded: (reason: string): void => {
        // Not in SHUTDOWN: it cancels at every venue already.
        if (this.closed || this.lifecycle.state === 'SHUTDOWN') return;
        if (this.venues.count > 0) {
          this.logger.warn(
            { reason },
            'fleet lease ended: cancelling at the venues without a switch',
          );
        }
        this.venues.onLeaseEnded(reason);
      },
      leaseHeld: (): void => {
        if (!this.closed) this.venues.onLeaseHeld();
      },
      leaseChanged: (view: LeaseView): void => {
        for (const listener of this.leaseListeners) {
          try {
            listener(view);
          } catch (error) {
            this.logger.error({ err: error }, 'an authority lease listener threw');
          }
        }
      },
    };
  }

  /** A deleted or replaced lock file lets a second owner in: fail safe. */
  private checkOwnership(): void {
    const lock = this.ownerLock;
    if (lock === null || lock.stillInPlace()) return;
    this.logger.fatal({ lockPath: lock.lockPath }, 'the owner lock file was deleted or replaced');
    this.requestShutdown({
      trigger: 'UNRECOVERABLE_EXCEPTION',
      reason: `GOV_OWNERSHIP_LOST: the owner lock file ${lock.lockPath} was deleted or replaced; a second owner could start`,
    });
  }

  private onHeartbeatLost(sinceMs: number): void {
    if (this.closed) return;
    const state = this.lifecycle.state;
    if (state === 'SHUTDOWN') return;
    const reason = `no successful heartbeat for ${exactDuration(sinceMs)} (threshold ${exactDuration(this.thresholds.heartbeatLossMs)})`;
    if (state === 'CHECKING' || state === 'AGGRESSIVE') {
      this.send({ type: 'heartbeat.lost', reason });
      return;
    }
    this.incidents.heartbeatLoss(reason, this.getLifecycleId(), { sinceMs, state });
  }

  private handleViolations(violations: IntegrityViolation[]): void {
    const summary = violations
      .slice(0, 20)
      .map((v) => ({ check: v.check, description: v.description, location: v.location }));
    try {
      this.store.events.append({
        eventType: 'INTEGRITY_VIOLATION',
        reason: `${violations.length} integrity violation(s): ${violations[0]?.description ?? ''}`,
        metadata: { count: violations.length, violations: summary },
      });
    } catch (error) {
      this.logger.error({ err: error }, 'integrity incident could not be logged');
    }
    const capital = violations.filter((v) => v.check === 'CAPITAL');
    if (capital.length > 0) {
      this.requestShutdown({
        trigger: 'CAPITAL_INCONSISTENT',
        reason: capital.map((v) => v.description).join('; '),
      });
      return;
    }
    const state = this.lifecycle.state;
    if (state === 'SHUTDOWN') return;
    if (state === 'CHECKING' || state === 'AGGRESSIVE') {
      this.send({
        type: 'integrity.violated',
        reason: violations.map((v) => v.description).join('; '),
      });
    }
    this.incidents.integrityViolation(violations, this.getLifecycleId());
  }

  // ---------------------------------------------------------------------------------------
  // Internals: operator commands

  private commandTarget(): CommandTarget {
    return {
      operatorShutdown: (request) => this.operatorShutdown(request),
      operatorObserve: (request) => this.operatorObserve(request),
      operatorResume: (request) => this.operatorResume(request),
      restartFromOutside: (request, options) => {
        this.operatorRestart(request, options);
        // A restart from another process: run a new lifecycle as the last one ran.
        return this.adapters === null ? Promise.resolve() : this.runStartupChecks(this.adapters);
      },
      thresholdsOrigin: () => this.thresholdsOrigin,
      acknowledgeAlert: (alertId, operator) => this.acknowledgeAlert(alertId, operator),
      adjustCapital: (request, options) => {
        const { before, after, reconciled } = this.operatorAdjustCapital(request, {
          poolId: typeof options.poolId === 'string' ? options.poolId : '',
          accountId: typeof options.accountId === 'string' ? options.accountId : null,
          amountMinor: parseMinor(options.amountMinor),
        });
        return { before: balanceText(before), after: balanceText(after), reconciled };
      },
      commandResult: () => {
        const cause = this.getCause();
        return {
          state: this.getState(),
          gateOpen: this.canDeployCapital(),
          cause: cause.cause,
          trigger: cause.trigger,
          reason: cause.reason,
        };
      },
    };
  }

  /** Audits an operator action; `apply` (its change to the record) commits with it or not at all. */
  private audit(
    request: OperatorRequest,
    action: 'SHUTDOWN' | 'OBSERVE' | 'RESUME' | 'RESTART',
    state: LifecycleState,
    apply: Parameters<ModeJournal['recordOperatorAction']>[1] | null,
  ): void {
    try {
      this.journal.recordOperatorAction(
        {
          operator: request.operator,
          reason: request.reason,
          action,
          state,
          lifecycleId: this.getLifecycleId(),
        },
        apply ?? (() => {}),
      );
    } catch (error) {
      this.logger.error(
        { err: error, action, operator: request.operator },
        'operator action could not be audited',
      );
      // The kill switch and observe work without their audit; resume and restart need it.
      if (action === 'RESUME' || action === 'RESTART') throw error;
    }
  }

  private assertAccepted(event: GovernorEvent, action: string): void {
    if (this.lifecycle.accepts(event)) return;
    const state = this.lifecycle.state;
    const where =
      state === 'STARTING' ? 'STARTING (no lifecycle runs yet: start governor first)' : state;
    throw new GovernorError(
      'GOV_INVALID_OPERATOR_ACTION',
      `${action} is not possible in ${where}; nothing was changed`,
      { state },
    );
  }

  private assertOpen(): void {
    if (this.closed) throw new GovernorError('GOV_CLOSED', 'the GovernanceSystem has been closed');
  }

  // ---------------------------------------------------------------------------------------
  // Process errors: the default latch, and the opt-in hooks

  /**
   * Node is about to handle an uncaught exception (and, by default, to crash): latch now, in
   * this call, so the latch is in SQLite before the process dies. Node's handling is unchanged.
   */
  private readonly latchUncaughtException = (error: unknown, origin: ExceptionOrigin): void => {
    const what = origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception';
    this.logger.fatal({ err: error }, what);
    this.requestShutdown({
      trigger: 'UNRECOVERABLE_EXCEPTION',
      reason: `${what}: ${describeError(error)}`,
    });
  };

  private readonly onUncaughtException = (error: Error): void => {
    this.logger.fatal({ err: error }, 'uncaught exception');
    this.requestShutdown({
      trigger: 'UNRECOVERABLE_EXCEPTION',
      reason: `uncaught exception: ${error.message}`,
    });
  };

  private readonly onUnhandledRejection = (reason: unknown): void => {
    this.logger.fatal({ err: reason }, 'unhandled rejection');
    const message = reason instanceof Error ? reason.message : String(reason);
    this.requestShutdown({
      trigger: 'UNRECOVERABLE_EXCEPTION',
      reason: `unhandled rejection: ${message}`,
    });
  };

  private installProcessHooks(): void {
    process.on('uncaughtException', this.onUncaughtException);
    process.on('unhandledRejection', this.onUnhandledRejection);
    this.processHooksInstalled = true;
  }

  private removeProcessHooks(): void {
    this.unwatchUncaughtExceptions?.();
    this.unwatchUncaughtExceptions = null;
    if (!this.processHooksInstalled) return;
    process.off('uncaughtException', this.onUncaughtException);
    process.off('unhandledRejection', this.onUnhandledRejection);
    this.processHooksInstalled = false;
  }
}

/** A signed amount of minor units given as a decimal string (or a safe integer). */
function parseMinor(value: unknown): bigint {
  if (typeof value === 'string' && /^[+-]?\d{1,19}$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  throw new GovernorError(
    'GOV_INVALID_AMOUNT',
    'capital adjust: expected the amount as a signed integer number of minor units',
    { field: 'amountMinor' },
  );
}

function balanceText(balance: PoolBalance): Record<string, string> {
  return {
    poolId: balance.poolId,
    totalMinor: balance.totalMinor.toString(),
    accountsSumMinor: balance.accountsSumMinor.toString(),
    differenceMinor: balance.differenceMinor.toString(),
  };
}
