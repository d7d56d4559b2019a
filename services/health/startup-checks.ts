/**
 * The startup checks (spec: Graceful Startup & Restart): event log integrity, snapshot
 * consistency, capital reconciliation, strategy state consistency, system mode valid, and
 * adapters reachable (read-only pings, each bounded by a timeout). Any failure fails the visit.
 */
import type { StartupCheckResult, StartupReport } from '../../machines/types.js';
import { MODES } from '../../machines/types.js';
import type { Store } from '../../persistence/index.js';
import type { Clock } from '../clock.js';
import { GovernorError } from '../errors.js';
import type { DataIntegrityVerifier } from './data-integrity.js';

export type AdapterPing = () => Promise<boolean> | boolean;
export interface NamedAdapter {
  readonly name: string;
  readonly ping: AdapterPing;
}
/** What `runStartupChecks` accepts: nothing, one ping function, or named adapters. */
export type AdaptersArgument = AdapterPing | readonly NamedAdapter[] | undefined;

export const ADAPTERS_MAX = 64;

export function normaliseAdapters(adapters: AdaptersArgument): NamedAdapter[] {
  if (adapters === undefined) return [];
  if (typeof adapters === 'function') return [{ name: 'adapter', ping: adapters }];
  if (!Array.isArray(adapters) || adapters.length > ADAPTERS_MAX) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      `adapters: expected a ping function or a list of at most ${ADAPTERS_MAX} { name, ping }`,
    );
  }
  return adapters.map((adapter, index) => {
    if (
      typeof adapter !== 'object' ||
      adapter === null ||
      typeof adapter.name !== 'string' ||
      adapter.name.trim() === '' ||
      typeof adapter.ping !== 'function'
    ) {
      throw new GovernorError(
        'GOV_INVALID_ARGUMENT',
        `adapters[${index}]: expected { name: non-empty string, ping: function }`,
      );
    }
    return { name: adapter.name, ping: adapter.ping };
  });
}

/** Pings one adapter: false, a throw, or no answer within the timeout fails it. */
export async function pingAdapter(
  adapter: NamedAdapter,
  clock: Clock,
  timeoutMs: number,
): Promise<{ ok: boolean; detail: string }> {
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const timeout = new Promise<{ ok: boolean; detail: string }>((resolve) => {
    timer = clock.setTimeout(
      () => resolve({ ok: false, detail: `${adapter.name}: no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
  });
  const ping = (async () => {
    try {
      const answer = await adapter.ping();
      return answer === true
        ? { ok: true, detail: `${adapter.name}: reachable` }
        : { ok: false, detail: `${adapter.name}: ping returned ${String(answer)}` };
    } catch (error) {
      return {
        ok: false,
        detail: `${adapter.name}: ping threw: ${(error as Error)?.message ?? String(error)}`,
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
  name: string,
  passed: boolean,
  details: string,
  rootCause = '',
  recommendedAction = '',
): StartupCheckResult {
  return { name, passed, details, rootCause, recommendedAction };
}

function guarded(name: string, check: () => StartupCheckResult): StartupCheckResult {
  try {
    return check();
  } catch (error) {
    return result(
      name,
      false,
      `check could not run: ${(error as Error)?.message ?? String(error)}`,
      'the database could not be read',
      'Check the database file, its disk and permissions; run `governor verify --full`.',
    );
  }
}

export interface StartupCheckDependencies {
  readonly store: Store;
  readonly verifier: DataIntegrityVerifier;
  readonly clock: Clock;
  readonly adapterPingTimeoutMs: number;
}

/** Runs the six checks for one CHECKING visit and returns its report. */
export async function runStartupCheckSuite(
  deps: StartupCheckDependencies,
  adapters: readonly NamedAdapter[],
  visit: { lifecycleId: string; visit: number },
): Promise<StartupReport> {
  const violations = guardedViolations(deps);
  const results: StartupCheckResult[] = [
    guarded('event_log_integrity', () =>
      fromViolations('event_log_integrity', violations, 'EVENT_LOG'),
    ),
    guarded('snapshot_consistency', () =>
      result('snapshot_consistency', true, 'snapshots: one per date, enforced by the store'),
    ),
    guarded('capital_reconciliation', () =>
      fromViolations('capital_reconciliation', violations, 'CAPITAL'),
    ),
    guarded('strategy_state_consistency', () =>
      result(
        'strategy_state_consistency',
        true,
        `${deps.store.strategies.list().length} strategies in valid states`,
      ),
    ),
    guarded('system_mode_valid', () => systemModeCheck(deps.store)),
    await adaptersCheck(adapters, deps),
  ];
  return { ...visit, passed: results.every((r) => r.passed), results };
}

type Violations = ReturnType<DataIntegrityVerifier['verify']> | Error;

function guardedViolations(deps: StartupCheckDependencies): Violations {
  try {
    return deps.verifier.verify({ full: true });
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function fromViolations(name: string, violations: Violations, check: string): StartupCheckResult {
  if (violations instanceof Error) throw violations;
  const mine = violations.filter((v) => v.check === check);
  if (mine.length === 0) return result(name, true, 'no violation');
  return result(
    name,
    false,
    mine.map((v) => v.description).join('; '),
    mine.map((v) => v.rootCause).join('; '),
    mine[0]?.recommendedAction ?? '',
  );
}

function systemModeCheck(store: Store): StartupCheckResult {
  const state = store.systemState.get();
  const valid = (MODES as readonly string[]).includes(state.desiredMode);
  return valid
    ? result('system_mode_valid', true, `desired mode ${state.desiredMode}`)
    : result(
        'system_mode_valid',
        false,
        `desired mode ${String(state.desiredMode)} is not one of ${MODES.join(', ')}`,
        'system_state holds an unknown mode',
        'Set the desired mode with an operator command (observe or resume).',
      );
}

async function adaptersCheck(
  adapters: readonly NamedAdapter[],
  deps: StartupCheckDependencies,
): Promise<StartupCheckResult> {
  if (adapters.length === 0) return result('adapters_reachable', true, 'no adapter configured');
  const pings = await Promise.all(
    adapters.map((a) => pingAdapter(a, deps.clock, deps.adapterPingTimeoutMs)),
  );
  const failed = pings.filter((p) => !p.ok);
  return failed.length === 0
    ? result('adapters_reachable', true, pings.map((p) => p.detail).join('; '))
    : result(
        'adapters_reachable',
        false,
        failed.map((p) => p.detail).join('; '),
        `adapter unreachable: ${failed.map((p) => p.detail.split(':')[0]).join(', ')}`,
        'Check the exchange connectivity and credentials of the named adapters, then resume as an operator.',
      );
}
