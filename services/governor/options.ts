/**
 * The GovernanceSystem's options: what each means, and their checks, run once before anything
 * is opened (each option read once from the caller's object, every refusal GOV_INVALID_CONFIG
 * naming its key). What `checkOptions` returns is all the assembly reads of them.
 */
import type { InspectionEvent } from 'xstate';
import type { Mode } from '../../machines/types.js';
import type { FaultInjector } from '../../persistence/faults.js';
import { readFields } from '../../persistence/plain-copy.js';
import type { DeliveryPolicy } from '../alerts/delivery-policy.js';
import type { AlertSink } from '../alerts/types.js';
import type { Clock } from '../clock.js';
import { parseMode, resolveThresholds, type Thresholds } from '../config.js';
import { GovernorError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Venue } from '../venues/venue.js';
import type { AuthorityOptions } from './fleet-link.js';
import { REQUEST_POLL_MS_DEFAULT, REQUEST_POLL_MS_RANGE } from './operator-commands.js';
import { checkVenues } from './venue-guard.js';

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

export function checkPollMs(value: number | null | undefined): number | null {
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

/** The options checked: the plain copy, and the values read from it once. */
export interface CheckedOptions {
  readonly options: GovernanceSystemOptions;
  readonly configuredThresholds: Thresholds;
  readonly configuredMode: Mode;
  readonly venues: ReturnType<typeof checkVenues>;
  readonly allowRiskReducingInShutdown: boolean;
  /** The request watcher's period, or null: only when `pollOperatorRequests()` is called. */
  readonly pollMs: number | null;
}

/** Every check of the options, before anything is opened; throws GOV_INVALID_CONFIG. */
export function checkOptions(given: GovernanceSystemOptions): CheckedOptions {
  const options = readOptions(given);
  if (options.enableProductionHardening === false) {
    throw new GovernorError(
      'GOV_INVALID_CONFIG',
      'enableProductionHardening: governor is a safety system; its protections cannot be disabled',
    );
  }
  const configuredThresholds = resolveThresholds(options.thresholds ?? {});
  const configuredMode = parseMode(options.desiredMode ?? 'AGGRESSIVE');
  const venues = checkVenues(options.venues);
  const allowRiskReducing: unknown = options.allowRiskReducingInShutdown;
  if (allowRiskReducing !== undefined && typeof allowRiskReducing !== 'boolean') {
    throw new GovernorError(
      'GOV_INVALID_CONFIG',
      'allowRiskReducingInShutdown: expected a boolean',
      {
        key: 'allowRiskReducingInShutdown',
      },
    );
  }
  return {
    options,
    configuredThresholds,
    configuredMode,
    venues,
    allowRiskReducingInShutdown: allowRiskReducing === true,
    pollMs: checkPollMs(options.operatorRequestPollMs),
  };
}
