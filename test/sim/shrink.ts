/**
 * Shrinking a failing simulation: cut the run to the day of the first violation, then drop
 * chunks of the schedule (halves, quarters, … single actions) while the same invariant still
 * fails. Bounded in runs, so a long soak's failure still prints promptly.
 */
import { DAY_MS } from './schedule.js';
import { formatSimTime, runSeed, type SimOptions, type SimResult } from './simulator.js';

export const SHRINK_RUNS_MAX = 150;

export interface Shrunk {
  readonly schedule: SimResult['schedule'];
  readonly days: number;
  readonly result: SimResult;
  readonly runs: number;
}

export async function shrink(
  failing: SimResult,
  extra: Partial<Pick<SimOptions, 'createGovernor' | 'withoutKinds'>> = {},
): Promise<Shrunk> {
  const invariant = failing.violations[0]?.invariant;
  let best = failing;
  let schedule = failing.schedule;
  const firstAtMs = failing.violations[0]?.atMs ?? failing.simulatedMs;
  const days = Math.max(1, Math.ceil((firstAtMs + 1) / DAY_MS));
  let runs = 0;
  const attempt = async (candidate: SimResult['schedule']): Promise<SimResult | null> => {
    runs++;
    const result = await runSeed({ seed: failing.seed, days, schedule: candidate, ...extra });
    return result.violations[0]?.invariant === invariant ? result : null;
  };
  schedule = schedule.filter((action) => action.atMs <= firstAtMs);
  const cut = await attempt(schedule);
  if (cut === null) schedule = failing.schedule;
  else best = cut;
  for (let chunk = Math.ceil(schedule.length / 2); chunk >= 1 && runs < SHRINK_RUNS_MAX; ) {
    let removedAny = false;
    for (let start = 0; start < schedule.length && runs < SHRINK_RUNS_MAX; ) {
      const candidate = [...schedule.slice(0, start), ...schedule.slice(start + chunk)];
      const result = await attempt(candidate);
      if (result !== null) {
        schedule = candidate;
        best = result;
        removedAny = true;
      } else {
        start += chunk;
      }
    }
    if (!removedAny || chunk === 1) chunk = Math.floor(chunk / 2);
  }
  return { schedule, days: best.days, result: best, runs };
}

/** The failure as the runner prints it: seed, invariant, the shrunk schedule, last decisions. */
export function describeFailure(result: SimResult, decisionsShown = 20): string {
  const lines = [`FAILED seed ${result.seed} (${result.days} days)`];
  for (const v of result.violations.slice(0, 5)) {
    lines.push(`  ${v.invariant} at ${formatSimTime(v.atMs)}: ${v.detail}`);
  }
  lines.push(`  schedule (${result.schedule.length} actions):`);
  for (const action of result.schedule.slice(0, 50)) {
    lines.push(`    ${formatSimTime(action.atMs)} ${JSON.stringify(action)}`);
  }
  lines.push('  last decisions:');
  for (const line of result.recentDecisions.slice(-decisionsShown)) lines.push(`    ${line}`);
  return lines.join('\n');
}
