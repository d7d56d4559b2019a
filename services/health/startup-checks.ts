/**
 * The startup checks (spec: Graceful Startup & Restart): event log integrity, snapshot
 * consistency, capital reconciliation, strategy state consistency, system mode valid, and
 * adapters reachable (read-only pings, each bounded by a timeout). Any failure fails the visit.
 */
import type {
  CheckOutcome,
  StartupCheckName,
  StartupCheckResult,
  StartupReport,
} from '../../machines/types.js';
import type { Store } from '../../persistence/index.js';
import type {
  DataIntegrityVerifier,
  IntegrityCheckName,
  IntegrityViolation,
} from '../../persistence/integrity/index.js';
import { readArray, readFields } from '../../persistence/plain-copy.js';
import type { Clock } from '../clock.js';
import { describeError, GovernorError } from '../errors.js';

export type AdapterPing = () => Promise<boolean> | boolean;
export interface NamedAdapter {
  readonly name: string;
  readonly ping: AdapterPing;
}
/** What `runStartupChecks` accepts: nothing, one ping function, or named adapters. */
export type AdaptersArgument = AdapterPing | readonly NamedAdapter[] | undefined;

export const ADAPTERS_MAX = 64;

/** The adapters as one plain copy: the list and each `{ name, ping }` read once, then checked. */
export function normaliseAdapters(adapters: AdaptersArgument): NamedAdapter[] {
  if (adapters === undefined) return [];
  if (typeof adapters === 'function') return [{ name: 'adapter', ping: adapters }];
  const expected = `adapters: expected a ping function or a list of at most ${ADAPTERS_MAX} { name, ping }`;
  if (!Array.isArray(adapters)) throw new GovernorError('GOV_INVALID_ARGUMENT', expected);
  return readArray('adapters', adapters, ADAPTERS_MAX).map((given, index) => {
    const adapter =
      typeof given === 'object' && given !== null
        ? readFields(`adapters[${index}]`, given, ['name', 'ping'])
        : {};
    const { name, ping } = adapter;
    if (typeof name !== 'string' || name.trim() === '' || typeof ping !== 'function') {
      throw new GovernorError(
        'GOV_INVALID_ARGUMENT',
        `adapters[${index}]: expected { name: non-empty string, ping: function }`,
      );
    }
    return { name, ping: ping as AdapterPing };
  });
}

export interface AdapterPingResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * Pings one adapter on the injected clock's timers: `true` within `timeoutMs` passes; false
 * (or any other answer), a throw, a rejection or no answer in time fails and names the adapter.
 */
export async function pingAdapter(
  adapter: NamedAdapter,
  clock: Clock,
  timeoutMs: number,
): Promise<AdapterPingResult> {
  const name = adapter.name;
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const timeout = new Promise<AdapterPingResult>((resolve) => {
    timer = clock.setTimeout(
      () => resolve({ name, ok: false, detail: `${name}: no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
  });
  const ping = (async (): Promise<AdapterPingResult> => {
    try {
      const answer = await adapter.ping();
      return answer === true
        ? { name, ok: true, detail: `${name}: reachable` }
        : { name, ok: false, detail: `${name}: ping returned ${String(answer)}` };
    } catch (error) {
      return {
        name,
        ok: false,
        detail: `${name}: ping threw: ${describeError(error)}`,
      };
    }
  })();
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clock.clearTimeout(timer);
  }
}

function result(
  name: StartupCheckName,
  outcome: CheckOutcome,
  details: string,
  rootCause = '',
  recommendedAction = '',
): StartupCheckResult {
  return { name, outcome, passed: outcome === 'passed', details, rootCause, recommendedAction };
}

export interface StartupCheckDependencies {
  readonly store: Store;
  readonly verifier: DataIntegrityVerifier;
  readonly clock: Clock;
  readonly adapterPingTimeoutMs: number;
  /**
   * Verify the whole log (default). A process's first visit and a visit after an operator
   * restart must; an operator's resume may verify from the head this process already verified.
   */
  readonly fullVerification?: boolean;
  /** Aborting stops the verification (e.g. when the checks time out or governor closes). */
  readonly signal?: AbortSignal;
}

/** The five data checks of the spec, in its order, each fed by one verifier check. */
const DATA_CHECKS: ReadonlyArray<{
  name: StartupCheckName;
  check: IntegrityCheckName;
  passed: string;
}> = [
  { name: 'event_log_integrity', check: 'EVENT_LOG', passed: 'event log' },
  { name: 'snapshot_consistency', check: 'SNAPSHOTS', passed: 'snapshots' },
  { name: 'capital_reconciliation', check: 'CAPITAL', passed: 'capital' },
  { name: 'strategy_state_consistency', check: 'STRATEGIES', passed: 'strategies' },
  { name: 'system_mode_valid', check: 'SYSTEM_MODE', passed: 'system mode' },
];

/** The name of the startup check that a verifier check feeds. */
export function startupCheckNameOf(check: IntegrityCheckName): StartupCheckName {
  const entry = DATA_CHECKS.find((candidate) => candidate.check === check);
  if (entry === undefined) throw new Error(`no startup check is fed by ${check}`);
  return entry.name;
}

/**
 * Runs the six checks for one CHECKING visit and returns its report. The adapters are pinged
 * concurrently with one verification (the whole log unless `deps.fullVerification` is false)
 * whose chain walk runs off the event loop (`verifyAsync`); the data checks come from it.
 */
export async function runStartupCheckSuite(
  deps: StartupCheckDependencies,
  adapters: readonly NamedAdapter[],
  visit: { lifecycleId: string; visit: number },
): Promise<StartupReport> {
  const pings = adaptersCheck(adapters, deps);
  const violations = await verification(deps);
  const results: StartupCheckResult[] = DATA_CHECKS.map((entry) =>
    fromViolations(entry.name, entry.passed, violations, entry.check, deps.verifier),
  );
  results.push(await pings);
  return {
    ...visit,
    passed: results.every((r) => r.passed),
    results,
    completedAt: new Date(deps.clock.wallNow()).toISOString(),
  };
}

type Violations = IntegrityViolation[] | Error;

async function verification(deps: StartupCheckDependencies): Promise<Violations> {
  try {
    return await deps.verifier.verifyAsync({
      full: deps.fullVerification !== false,
      signal: deps.signal,
    });
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function unreadable(name: StartupCheckName, error: Error): StartupCheckResult {
  const damaged = /malformed|corrupt|not a database|NOTADB|CORRUPT/i.test(error.message);
  return result(
    name,
    'unreadable',
    `check could not run: ${error.message}`,
    damaged ? 'the database file is damaged' : 'the database could not be read',
    damaged
      ? 'Stop the process, keep the damaged file for analysis, restore the database from a backup and run `governor verify --full`.'
      : 'Check the database file, its disk and permissions; run `governor verify --full`.',
  );
}

function fromViolations(
  name: StartupCheckName,
  subject: string,
  violations: Violations,
  check: IntegrityCheckName,
  verifier: DataIntegrityVerifier,
): StartupCheckResult {
  if (violations instanceof Error) return unreadable(name, violations);
  const mine = violations.filter((v) => v.check === check);
  if (mine.length === 0) return result(name, 'passed', passedDetail(subject, check, verifier));
  // Damaged pages: the data could not be read reliably, whatever it says (never a capital
  // shutdown on unreadable records: OBSERVE_ONLY, and the operator restores the file).
  const damaged = mine.filter((v) => v.location.kind === 'STRUCTURE');
  if (damaged.length > 0) {
    return unreadable(name, new Error(damaged.map((v) => v.description).join('; ')));
  }
  return result(
    name,
    'failed',
    mine.map((v) => v.description).join('; '),
    [...new Set(mine.map((v) => v.rootCause))].join('; '),
    mine[0]?.recommendedAction ?? '',
  );
}

function passedDetail(
  subject: string,
  check: IntegrityCheckName,
  verifier: DataIntegrityVerifier,
): string {
  if (check !== 'EVENT_LOG') return `${subject}: no violation`;
  const run = verifier.getLastRun();
  const head = verifier.getVerifiedHead();
  return `event log: ${run?.eventsChecked ?? 0} events verified${head === null ? '' : `, head seq ${head.seq} ${head.hash}`}`;
}

async function adaptersCheck(
  adapters: readonly NamedAdapter[],
  deps: StartupCheckDependencies,
): Promise<StartupCheckResult> {
  if (adapters.length === 0) return result('adapters_reachable', 'passed', 'no adapter configured');
  const pings = await Promise.all(
    adapters.map((a) => pingAdapter(a, deps.clock, deps.adapterPingTimeoutMs)),
  );
  const failed = pings.filter((p) => !p.ok);
  return failed.length === 0
    ? result('adapters_reachable', 'passed', pings.map((p) => p.detail).join('; '))
    : result(
        'adapters_reachable',
        'failed',
        failed.map((p) => p.detail).join('; '),
        `adapter unreachable: ${failed.map((p) => p.name).join(', ')}`,
        'Check the exchange connectivity and credentials of the named adapters, then `governor resume --operator NAME --reason TEXT`.',
      );
}
