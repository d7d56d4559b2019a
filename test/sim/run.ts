/**
 * The simulator's command line: `npm run sim -- --seeds N --days D [--seed S] [--replay FILE]`.
 * `--without wallJump,crash` drops action kinds (triage). `--keep-going` runs every seed to its end and reports each failure instead of shrinking the first. Runs seeds in turn, prints seeds/s, the speed-up over real time and (with
 * `node --expose-gc`) the heap after GC; on a violation prints the seed and a shrunk trace.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Action } from './schedule.js';
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
  const heapBeforeMb = heapAfterGcMb();
  let simulatedMs = 0;
  let wallMs = 0;
  let failed = 0;
  const started = performance.now();
  for (const seed of seeds) {
    const result = await runSeed({
      seed,
      days: replay?.days ?? days,
      stopAtFirstViolation: !values['keep-going'],
      ...(replay === null ? {} : { schedule: replay.schedule }),
      ...(without.length === 0 ? {} : { withoutKinds: without }),
    });
    simulatedMs += result.simulatedMs;
    wallMs += result.wallMs;
    const s = result.stats;
    console.log(
      `seed ${seed}: ${result.violations.length === 0 ? 'ok' : 'FAIL'} digest ${result.traceDigest} ` +
        `${(result.simulatedMs / result.wallMs).toFixed(0)}x | orders ${s.orders} shutdowns ${s.shutdowns} ` +
        `alerts ${s.alerts} crashes ${s.crashes} restarts ${s.operatorRestarts} resumes ${s.operatorResumes} events ${s.eventsAppended}`,
    );
    if (result.violations.length > 0) {
      failed++;
      if (values['keep-going']) {
        const v = result.violations[0];
        console.log(`  ${v?.invariant} at ${formatSimTime(v?.atMs ?? 0)}: ${v?.detail}`);
        continue;
      }
      await failAndShrink(result);
      break;
    }
  }
  const totalWallMs = performance.now() - started;
  const heapAfterMb = heapAfterGcMb();
  console.log(
    `\n${seeds.length} seed(s) in ${(totalWallMs / 1000).toFixed(1)} s: ${(seeds.length / (totalWallMs / 1000)).toFixed(2)} seeds/s, ` +
      `speed-up ${(simulatedMs / wallMs).toFixed(0)}x real time (${(simulatedMs / 86_400_000).toFixed(1)} simulated days)`,
  );
  if (heapBeforeMb !== null && heapAfterMb !== null) {
    console.log(
      `heap after GC: ${heapBeforeMb.toFixed(2)} MB before, ${heapAfterMb.toFixed(2)} MB after (growth ${(heapAfterMb - heapBeforeMb).toFixed(2)} MB)`,
    );
  } else {
    console.log('heap: run with NODE_OPTIONS=--expose-gc to measure it after GC');
  }
  if (unhandled.length > 0) {
    console.log(`UNHANDLED REJECTIONS: ${unhandled.length}: ${String(unhandled[0])}`);
    failed++;
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
