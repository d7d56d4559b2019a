/**
 * The simulator's command line: `npm run sim -- --seeds N --days D [--seed S] [--replay FILE]`.
 * `--without wallJump,crash` drops action kinds (triage). `--keep-going` runs every seed to its end and reports each failure instead of shrinking the first. `--jobs J` runs up to J seeds at once, each in a child process of its own (default: one per core); prints seeds/s, the speed-up over real time and (with
 * `node --expose-gc`, one process) the heap after GC; on a violation prints the seed and a shrunk trace.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Action } from './schedule.js';
import { runSeedsInProcesses, type SeedTask } from './seed-pool.js';
import { describeFailure, shrink } from './shrink.js';
import { formatSimTime, runSeed, type SimResult } from './simulator.js';

interface Replay {
  readonly seed: number;
  readonly days: number;
  readonly schedule: Action[];
}

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '10' },
    days: { type: 'string', default: '3' },
    seed: { type: 'string' },
    first: { type: 'string', default: '1' },
    replay: { type: 'string' },
    'no-shrink': { type: 'boolean', default: false },
    'keep-going': { type: 'boolean', default: false },
    without: { type: 'string', default: '' },
    jobs: { type: 'string' },
  },
});

function positiveInteger(name: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`--${name}: expected a non-negative integer, got ${text}`);
    process.exit(2);
  }
  return value;
}

const gc = (globalThis as { gc?: () => void }).gc;
function heapAfterGcMb(): number | null {
  if (gc === undefined) return null;
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1_048_576;
}

function printFailure(result: SimResult, replayPath: string): void {
  console.log(`\n${describeFailure(result)}`);
  console.log(`  replay: npm run sim -- --replay ${replayPath}`);
}

async function failAndShrink(result: SimResult): Promise<void> {
  let replay: Replay = { seed: result.seed, days: result.days, schedule: [...result.schedule] };
  if (!values['no-shrink']) {
    const shrunk = await shrink(result);
    replay = { seed: result.seed, days: shrunk.days, schedule: [...shrunk.schedule] };
    console.log(
      `\nshrunk: ${result.schedule.length} -> ${shrunk.schedule.length} actions, ${result.days} -> ${shrunk.days} days (${shrunk.runs} runs)`,
    );
    result = shrunk.result;
  }
  const path = join(tmpdir(), `governor-sim-${result.seed}.json`);
  writeFileSync(path, `${JSON.stringify(replay)}\n`);
  printFailure(result, path);
}

function printSeed(result: SimResult): void {
  const s = result.stats;
  console.log(
    `seed ${result.seed}: ${result.violations.length === 0 ? 'ok' : 'FAIL'} digest ${result.traceDigest} ` +
      `${(result.simulatedMs / result.wallMs).toFixed(0)}x | orders ${s.orders} shutdowns ${s.shutdowns} ` +
      `alerts ${s.alerts} crashes ${s.crashes} restarts ${s.operatorRestarts} resumes ${s.operatorResumes} events ${s.eventsAppended}`,
  );
  const v = result.violations[0];
  if (v !== undefined && values['keep-going']) {
    console.log(`  ${v.invariant} at ${formatSimTime(v.atMs)}: ${v.detail}`);
  }
}

/** Runs the seeds in this process, in turn; stops after the first failure unless keep-going. */
async function runInProcess(
  tasks: readonly SeedTask[],
  schedule: Action[] | null,
): Promise<SimResult[]> {
  const results: SimResult[] = [];
  for (const task of tasks) {
    const result = await runSeed({
      seed: task.seed,
      days: task.days,
      stopAtFirstViolation: task.stopAtFirstViolation,
      ...(schedule === null ? {} : { schedule }),
      ...(task.withoutKinds.length === 0 ? {} : { withoutKinds: task.withoutKinds }),
    });
    results.push(result);
    printSeed(result);
    if (result.violations.length > 0 && !values['keep-going']) break;
  }
  return results;
}

/**
 * Runs the seeds in child processes, `jobs` at once, and prints each seed's line in seed order.
 * After a failure (unless keep-going) no further seed is started; those running finish.
 */
async function runInProcesses(
  tasks: readonly SeedTask[],
  jobs: number,
  unhandled: unknown[],
): Promise<SimResult[]> {
  const bySeed = new Map<number, SimResult>();
  let printed = 0;
  const printInOrder = (): void => {
    for (let task = tasks[printed]; task !== undefined && bySeed.has(task.seed); ) {
      const result = bySeed.get(task.seed);
      if (result !== undefined) printSeed(result);
      printed++;
      task = tasks[printed];
    }
  };
  await runSeedsInProcesses(tasks, jobs, (report) => {
    bySeed.set(report.result.seed, report.result);
    unhandled.push(...report.unhandled);
    printInOrder();
    return report.result.violations.length === 0 || values['keep-going'] === true;
  });
  // Seeds never started leave gaps: what did run is printed, in seed order.
  const results = tasks.flatMap((task) => bySeed.get(task.seed) ?? []);
  for (const result of results.slice(printed)) printSeed(result);
  return results;
}

async function main(): Promise<void> {
  const unhandled: unknown[] = [];
  process.on('unhandledRejection', (reason) => unhandled.push(reason));
  const days = positiveInteger('days', values.days);
  const without = (values.without ?? '').split(',').filter((kind) => kind !== '');
  let seeds: number[];
  let replay: Replay | null = null;
  if (values.replay !== undefined) {
    replay = JSON.parse(readFileSync(values.replay, 'utf8')) as Replay;
    seeds = [replay.seed];
  } else if (values.seed !== undefined) {
    seeds = [positiveInteger('seed', values.seed)];
  } else {
    const first = positiveInteger('first', values.first);
    const count = positiveInteger('seeds', values.seeds);
    seeds = Array.from({ length: count }, (_, i) => first + i);
  }
  const jobs = Math.min(
    seeds.length,
    values.jobs === undefined ? availableParallelism() : positiveInteger('jobs', values.jobs),
  );
  const tasks: SeedTask[] = seeds.map((seed) => ({
    seed,
    days: replay?.days ?? days,
    stopAtFirstViolation: !values['keep-going'],
    withoutKinds: without,
  }));
  const heapBeforeMb = jobs > 1 ? null : heapAfterGcMb();
  const started = performance.now();
  const results =
    jobs > 1
      ? await runInProcesses(tasks, jobs, unhandled)
      : await runInProcess(tasks, replay === null ? null : replay.schedule);
  const totalWallMs = performance.now() - started;
  const simulatedMs = results.reduce((sum, result) => sum + result.simulatedMs, 0);
  const wallMs = results.reduce((sum, result) => sum + result.wallMs, 0);
  const failures = results.filter((result) => result.violations.length > 0);
  const firstFailure = failures[0];
  if (firstFailure !== undefined && !values['keep-going']) await failAndShrink(firstFailure);
  const heapAfterMb = jobs > 1 ? null : heapAfterGcMb();
  console.log(
    `\n${results.length} seed(s) in ${(totalWallMs / 1000).toFixed(1)} s with ${Math.max(1, jobs)} process(es): ` +
      `${(results.length / (totalWallMs / 1000)).toFixed(2)} seeds/s, ` +
      `speed-up ${(simulatedMs / wallMs).toFixed(0)}x real time per seed, ${(simulatedMs / totalWallMs).toFixed(0)}x overall ` +
      `(${(simulatedMs / 86_400_000).toFixed(1)} simulated days)`,
  );
  if (heapBeforeMb !== null && heapAfterMb !== null) {
    console.log(
      `heap after GC: ${heapBeforeMb.toFixed(2)} MB before, ${heapAfterMb.toFixed(2)} MB after (growth ${(heapAfterMb - heapBeforeMb).toFixed(2)} MB)`,
    );
  } else if (jobs > 1) {
    console.log('heap: measured in one process only (--jobs 1 and NODE_OPTIONS=--expose-gc)');
  } else {
    console.log('heap: run with NODE_OPTIONS=--expose-gc to measure it after GC');
  }
  if (unhandled.length > 0) {
    console.log(`UNHANDLED REJECTIONS: ${unhandled.length}: ${String(unhandled[0])}`);
  }
  process.exitCode = failures.length > 0 || unhandled.length > 0 ? 1 : 0;
}

await main();
