/**
 * Benchmark: real time from a fail-safe deadline (market data stale) to the gate latched shut,
 * to the CRITICAL alert persisted and to the mode-change listeners told, against the lateness
 * of a bare timer of the same delay, for both ways of writing an incident, in the same run:
 * - after: the shipped path, the shutdown's events, the latch and the alert's row in one commit;
 * - before: the former path, the alert's row in a second commit after the latch's. It is not a
 *   reconstruction: governor keeps that path behind an internal switch
 *   (`ALERT_IN_ITS_OWN_TRANSACTION` in services/governor/internal-symbols.ts, exported by
 *   neither the package's index nor its testing entry), which the governor child flips per round.
 * Governor and the bare timers run in two child processes of their own; rounds alternate the
 * order of before, after and the baseline; ≥ 1,000 trials each. Prints after/before ratios.
 * Target p99 < 20 ms. Method and figures: docs/benchmarks.md.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BaselineRound,
  type ChildRequest,
  type GovernorRound,
  type IncidentPath,
  SPACING_MS,
  THRESHOLD_MS,
} from './support/detection-protocol.js';
import { type Summary, summarise } from './support/stats.js';

const QUICK = process.argv.includes('--quick');
/** Trials in one round of one child: 25 governors made ready, then released SPACING_MS apart. */
const TRIALS_PER_ROUND = 25;
const ROUNDS = QUICK ? 2 : 40;
const TARGET_P99_MS = 20;
const ARTIFACT = join('test-artifacts', 'bench-detection.json');

/** A child process answering one round at a time over IPC; idle (and quiet) in between. */
class Child {
  private readonly process: ChildProcess;
  private readonly replies: unknown[] = [];
  private wake: (() => void) | null = null;

  constructor(script: string) {
    const path = fileURLToPath(new URL(script, import.meta.url));
    this.process = fork(path, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    this.process.on('message', (message) => {
      this.replies.push(message);
      this.wake?.();
    });
    this.process.on('exit', (code) => {
      if (code !== 0 && code !== null) {
        console.error(`${script} exited with code ${code}`);
        process.exit(1);
      }
    });
  }

  async next<T>(): Promise<T> {
    while (this.replies.length === 0) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    return this.replies.shift() as T;
  }

  async round<T>(trials: number, path?: IncidentPath): Promise<T> {
    const request: ChildRequest =
      path === undefined ? { kind: 'round', trials } : { kind: 'round', trials, path };
    this.process.send(request);
    return this.next<T>();
  }

  /** Asks the child to clean up and exit; kills it if it has not within a few seconds. */
  async end(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    const request: ChildRequest = { kind: 'end' };
    this.process.send(request);
    const timer = setTimeout(() => this.process.kill(), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The samples of one incident path. */
interface PathResults {
  readonly gateLatchedMs: number[];
  readonly alertPersistedMs: number[];
  readonly toldMs: number[];
  /** Per governor trial: another governor wrote its shutdown between its deadline and detection. */
  readonly overlapped: boolean[];
  readonly triggers: string[];
}

interface Results {
  readonly before: PathResults;
  readonly after: PathResults;
  readonly baselineMs: number[];
}

const PATHS: readonly IncidentPath[] = ['before', 'after'];
type Which = IncidentPath | 'baseline';
/** The order of each round: every one of the three goes first, second and last in turn. */
const ORDERS: ReadonlyArray<readonly Which[]> = [
  ['before', 'after', 'baseline'],
  ['after', 'baseline', 'before'],
  ['baseline', 'before', 'after'],
  ['after', 'before', 'baseline'],
  ['before', 'baseline', 'after'],
  ['baseline', 'after', 'before'],
];

function emptyPath(): PathResults {
  return { gateLatchedMs: [], alertPersistedMs: [], toldMs: [], overlapped: [], triggers: [] };
}

async function run(): Promise<Results> {
  const governor = new Child('./support/detection-governor-child.ts');
  const baseline = new Child('./support/detection-baseline-child.ts');
  const results: Results = { before: emptyPath(), after: emptyPath(), baselineMs: [] };
  try {
    await Promise.all([governor.next(), baseline.next()]);
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order, so that drifting machine noise hits each of the three alike.
      for (const which of ORDERS[round % ORDERS.length] ?? []) {
        if (which === 'baseline') {
          const { latenessMs } = await baseline.round<BaselineRound>(TRIALS_PER_ROUND);
          results.baselineMs.push(...latenessMs);
          continue;
        }
        const { path, samples } = await governor.round<GovernorRound>(TRIALS_PER_ROUND, which);
        if (path !== which) throw new Error(`asked for ${which}, measured ${path}`);
        const into = results[which];
        for (const sample of samples) {
          into.gateLatchedMs.push(sample.gateLatchedMs);
          into.alertPersistedMs.push(sample.alertPersistedMs);
          into.toldMs.push(sample.toldMs);
          into.overlapped.push(sample.overlapped);
          into.triggers.push(sample.trigger);
        }
      }
      if (!QUICK && (round + 1) % 10 === 0) console.log(`  … ${round + 1}/${ROUNDS} rounds`);
    }
  } finally {
    await Promise.all([governor.end(), baseline.end()]);
  }
  return results;
}

interface PathFigures {
  readonly gateLatchedMs: Summary;
  readonly alertPersistedMs: Summary;
  readonly toldMs: Summary;
  /** The same, over the trials that no other governor's shutdown delayed. */
  readonly isolatedGateLatchedMs: Summary;
  readonly isolatedAlertPersistedMs: Summary;
  readonly overlapped: number;
  /** How many shutdowns each trigger named. */
  readonly triggers: Record<string, number>;
}

interface Figures {
  readonly before: PathFigures;
  readonly after: PathFigures;
  readonly bareTimerLatenessMs: Summary;
}

function pathFigures(results: PathResults): PathFigures {
  const isolated = (values: number[]): number[] => values.filter((_, i) => !results.overlapped[i]);
  return {
    gateLatchedMs: summarise(results.gateLatchedMs),
    alertPersistedMs: summarise(results.alertPersistedMs),
    toldMs: summarise(results.toldMs),
    isolatedGateLatchedMs: summarise(isolated(results.gateLatchedMs)),
    isolatedAlertPersistedMs: summarise(isolated(results.alertPersistedMs)),
    overlapped: results.overlapped.filter(Boolean).length,
    triggers: Object.fromEntries(
      [...new Set(results.triggers)].map((t) => [
        t,
        results.triggers.filter((u) => u === t).length,
      ]),
    ),
  };
}

function figures(results: Results): Figures {
  return {
    before: pathFigures(results.before),
    after: pathFigures(results.after),
    bareTimerLatenessMs: summarise(results.baselineMs),
  };
}

function report(figures: Figures, loadAverage1m: number, elapsedS: number): void {
  const base = figures.bareTimerLatenessMs;
  const f = (value: number): string => value.toFixed(2).padStart(7);
  const ratio = (a: number, b: number): string => (a / Math.max(b, 0.001)).toFixed(2).padStart(6);
  const row = (label: string, s: Summary, baseline = true): string =>
    `  ${label.padEnd(50)} ${String(s.count).padStart(6)} ${f(s.p50)} ${f(s.p90)} ${f(s.p99)} ${f(s.max)}` +
    (baseline ? `  ${ratio(s.p50, base.p50)}  ${ratio(s.p99, base.p99)}` : '');
  console.log(
    `bench/detection: threshold ${THRESHOLD_MS} ms, ${ROUNDS} rounds of ${TRIALS_PER_ROUND} trials for each of before, after and the baseline, spaced ${SPACING_MS} ms; ${elapsedS.toFixed(0)} s, load ${loadAverage1m.toFixed(1)}`,
  );
  console.log(
    `  ${'ms after the deadline'.padEnd(50)} trials     p50     p90     p99     max  xb p50  xb p99`,
  );
  for (const path of PATHS) {
    const p = figures[path];
    const label = path === 'before' ? 'before (2 commits)' : 'after (1 commit)';
    console.log(row(`${label}: deadline -> gate latched`, p.gateLatchedMs));
    console.log(row(`${label}: deadline -> alert persisted`, p.alertPersistedMs));
    console.log(row(`${label}: deadline -> listeners told`, p.toldMs));
    console.log(row('  without delay by another governor: gate', p.isolatedGateLatchedMs));
    console.log(row('  without delay by another governor: alert', p.isolatedAlertPersistedMs));
  }
  console.log(row('baseline: bare timer lateness, own process', base, false));
  const { before, after } = figures;
  console.log(
    `  (xb: ratio to the baseline; trials delayed by another governor of the round writing its shutdown: before ${before.overlapped}, after ${after.overlapped})`,
  );
  for (const path of PATHS) {
    const triggers = Object.entries(figures[path].triggers).map(([t, n]) => `${t} ${n}`);
    console.log(`  shutdown triggers, ${path}: ${triggers.join(', ')}`);
  }
  console.log('  ratio after/before                                   p50     p99');
  const afterOverBefore = (label: string, key: 'gateLatchedMs' | 'alertPersistedMs' | 'toldMs') =>
    console.log(
      `  ${label.padEnd(50)} ${ratio(after[key].p50, before[key].p50)}  ${ratio(after[key].p99, before[key].p99)}`,
    );
  afterOverBefore('deadline -> gate latched', 'gateLatchedMs');
  afterOverBefore('deadline -> alert persisted', 'alertPersistedMs');
  afterOverBefore('deadline -> listeners told', 'toldMs');
  const verdict = (p99: number): string => (p99 < TARGET_P99_MS ? 'PASS' : 'MISS');
  console.log(
    `  target p99 < ${TARGET_P99_MS} ms, after: gate latched ${verdict(after.gateLatchedMs.p99)}, alert persisted ${verdict(after.alertPersistedMs.p99)}; bare timer p99 ${base.p99.toFixed(1)} ms`,
  );
}

async function main(): Promise<void> {
  const startedAtMs = performance.now();
  const results = await run();
  const elapsedS = (performance.now() - startedAtMs) / 1_000;
  const loadAverage1m = loadavg()[0] ?? Number.NaN;
  const summary = figures(results);
  report(summary, loadAverage1m, elapsedS);
  mkdirSync('test-artifacts', { recursive: true });
  const artifact = {
    date: new Date().toISOString(),
    node: process.version,
    loadAverage1m,
    elapsedS,
    thresholdMs: THRESHOLD_MS,
    spacingMs: SPACING_MS,
    rounds: ROUNDS,
    trialsPerRound: TRIALS_PER_ROUND,
    targetP99Ms: TARGET_P99_MS,
    figures: summary,
    samples: results,
  };
  writeFileSync(ARTIFACT, `${JSON.stringify(artifact)}\n`);
  console.log(`  written to ${ARTIFACT}`);
}

await main();
