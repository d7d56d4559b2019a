/**
 * What a running GovernanceSystem is made of: the parts `assembly.ts` builds once (the store,
 * the monitors, the machine's actor, the gate) and the little state the facade keeps beside the
 * machine (closed, the adapters, whether the timers were started). The sibling modules take it
 * whole.
 */
import type { Mode } from '../../machines/types.js';
import type { Store } from '../../persistence/index.js';
import type {
  DataIntegrityVerifier,
  IntegrityScrubber,
} from '../../persistence/integrity/index.js';
import type { ModeJournal } from '../../persistence/mode-journal.js';
import type { AlertManager } from '../alerts/alert-manager.js';
import type { Clock } from '../clock.js';
import type { Thresholds } from '../config.js';
import type { LeaseView } from '../fleet/lease.js';
import type { FailSafeManager } from '../health/fail-safe-manager.js';
import type { HealthMonitor } from '../health/health-monitor.js';
import type { HeartbeatMonitor } from '../health/heartbeat-monitor.js';
import type { NamedAdapter } from '../health/startup-checks.js';
import type { Logger } from '../logger.js';
import type { Effects } from './effects.js';
import type { EnginePort } from './engine-port.js';
import type { FleetLink } from './fleet-link.js';
import type { Gate } from './gate.js';
import type { Incidents } from './incidents.js';
import type { InvariantGuard } from './invariants.js';
import type { Lifecycle } from './lifecycle.js';
import type { RequestWatcher } from './operator-commands.js';
import type { OwnerLock } from './ownership/take.js';
import type { ThresholdsOrigin } from './preflight.js';
import type { VenueGuard } from './venue-guard.js';

export interface Runtime {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly dbPath: string;
  readonly fallbackPath: string | null;
  readonly ownerLock: OwnerLock | null;
  readonly store: Store;
  readonly journal: ModeJournal;
  readonly thresholds: Thresholds;
  /** Whose thresholds these are: this owner's own, or (acting owner) the last owner's record. */
  readonly thresholdsOrigin: ThresholdsOrigin;
  readonly configuredMode: Mode;
  readonly allowRiskReducingInShutdown: boolean;
  /** The command line acting as the owner for a moment (no engine runs here). */
  readonly actingOwner: boolean;
  readonly health: HealthMonitor;
  readonly alerts: AlertManager;
  readonly incidents: Incidents;
  readonly venues: VenueGuard;
  readonly verifier: DataIntegrityVerifier;
  readonly scrubber: IntegrityScrubber;
  /** Aborts a verification still walking (on close): a closed governor leaves no worker behind. */
  readonly verifications: AbortController;
  readonly gate: Gate;
  readonly failSafe: FailSafeManager;
  readonly heartbeat: HeartbeatMonitor;
  readonly fleet: FleetLink | null;
  readonly leaseListeners: Set<(view: LeaseView) => void>;
  readonly engine: EnginePort;
  readonly effects: Effects;
  /** The checks after every machine step (invariants.ts). */
  readonly invariants: InvariantGuard;
  /** The one running statechart actor; `dispatcher.ts` is the only code that sends it events. */
  readonly lifecycle: Lifecycle;
  readonly watcher: RequestWatcher;
  /** The state beside the machine: none of it says which mode governor is in. */
  readonly flags: RuntimeFlags;
}

export interface RuntimeFlags {
  closed: boolean;
  /** The adapters the last `runStartupChecks` was given (a restart from outside reuses them). */
  adapters: NamedAdapter[] | null;
  /** The timers were started (`timers.start`): a new authority actor starts them again. */
  monitorsStarted: boolean;
  /**
   * The first CHECKING visit of the process verifies the whole log; an operator's resume or
   * restart in the same process verifies from the head this process already verified. Damage
   * still outstanding always forces a full verification.
   */
  nextVisitVerifiesFully: boolean;
  /** Removes the process-error hooks and the default latch (process-errors.ts). */
  removeProcessHooks: () => void;
}

/** The wall time now, ISO-8601, by the injected clock. */
export function nowIso(runtime: { readonly clock: Clock }): string {
  return new Date(runtime.clock.wallNow()).toISOString();
}
