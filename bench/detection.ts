/**
 * Benchmark: real time from a fail-safe deadline (market data stale) to the gate latched shut
 * and to the CRITICAL alert persisted, against the lateness of a bare timer of the same delay.
 * Governor and the bare timers run in two child processes of their own, in alternating rounds,
 * ≥ 1,000 trials each. Target p99 < 20 ms. Method and figures: docs/benchmarks.md.
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

  async round<T>(trials: number): Promise<T> {
    const request: ChildRequest = { kind: 'round', trials };
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

interface Results {
  readonly gateLatchedMs: number[];
  readonly alertPersistedMs: number[];
  /** Per governor trial: another governor wrote its shutdown between its deadline and detection. */
  readonly overlapped: boolean[];
  readonly triggers: string[];
  readonly baselineMs: number[];
}

async function run(): Promise<Results> {
  const governor = new Child('./support/detection-governor-child.ts');
  const baseline = new Child('./support/detection-baseline-child.ts');
  const gateLatchedMs: number[] = [];
  const alertPersistedMs: number[] = [];
  const baselineMs: number[] = [];
  const overlapped: boolean[] = [];
  const triggers: string[] = [];
  try {
    await Promise.all([governor.next(), baseline.next()]);
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which child goes first, so that drifting machine noise hits both alike.
      const order = round % 2 === 0 ? ['governor', 'baseline'] : ['baseline', 'governor'];
      for (const which of order) {
        if (which === 'governor') {
          const { samples } = await governor.round<GovernorRound>(TRIALS_PER_ROUND);
          for (const sample of samples) {
            gateLatchedMs.push(sample.gateLatchedMs);
            alertPersistedMs.push(sample.alertPersistedMs);
            overlapped.push(sample.overlapped);
            triggers.push(sample.trigger);
          }
        } else {
          const { latenessMs } = await baseline.round<BaselineRound>(TRIALS_PER_ROUND);
          baselineMs.push(...latenessMs);
        }
      }
      if (!QUICK && (round + 1) % 10 === 0) console.log(`  … ${round + 1}/${ROUNDS} rounds`);
    }
  } finally {
    await Promise.all([governor.end(), baseline.end()]);
  }
  return { gateLatchedMs, alertPersistedMs, overlapped, triggers, baselineMs };
}

interface Figures {
  readonly gateLatchedMs: Summary;
  readonly alertPersistedMs: Summary;
  /** The same, over the trials that no other governor's shutdown delayed. */
  readonly isolatedGateLatchedMs: Summary;
  readonly isolatedAlertPersistedMs: Summary;
  readonly overlapped: number;
  /** How many shutdowns each trigger named. */
  readonly triggers: Record<string, number>;
  readonly bareTimerLatenessMs: Summary;
}

function figures(results: Results): Figures {
  const isolated = (values: number[]): number[] => values.filter((_, i) => !results.overlapped[i]);
  return {
    gateLatchedMs: summarise(results.gateLatchedMs),
    alertPersistedMs: summarise(results.alertPersistedMs),
    isolatedGateLatchedMs: summarise(isolated(results.gateLatchedMs)),
    isolatedAlertPersistedMs: summarise(isolated(results.alertPersistedMs)),
    overlapped: results.overlapped.filter(Boolean).length,
    triggers: Object.fromEntries(
      [...new Set(results.triggers)].map((t) => [
        t,
        results.triggers.filter((u) => u === t).length,
      ]),
    ),
    bareTimerLatenessMs: summarise(results.baselineMs),
  };
}

function report(figures: Figures, loadAverage1m: number, elapsedS: number): void {
  const base = figures.bareTimerLatenessMs;
  const f = (value: number): string => value.toFixed(2).padStart(7);
  const ratio = (a: number, b: number): string => (a / Math.max(b, 0.001)).toFixed(1).padStart(6);
  const row = (label: string, s: Summary, baseline = true): string =>
    `  ${label.padEnd(46)} ${String(s.count).padStart(6)} ${f(s.p50)} ${f(s.p90)} ${f(s.p99)} ${f(s.max)}` +
    (baseline ? `  ${ratio(s.p50, base.p50)}  ${ratio(s.p99, base.p99)}` : '');
  console.log(
    `bench/detection: threshold ${THRESHOLD_MS} ms, ${ROUNDS} alternating rounds of ${TRIALS_PER_ROUND} trials per child, spaced ${SPACING_MS} ms; ${elapsedS.toFixed(0)} s, load ${loadAverage1m.toFixed(1)}`,
  );
  console.log(
    `  ${'ms after the deadline'.padEnd(46)} trials     p50     p90     p99     max  xb p50  xb p99`,
  );
  console.log(row('governor: deadline -> gate latched', figures.gateLatchedMs));
  console.log(row('governor: deadline -> alert persisted', figures.alertPersistedMs));
  console.log(row('  without delay by another governor: gate', figures.isolatedGateLatchedMs));
  console.log(row('  without delay by another governor: alert', figures.isolatedAlertPersistedMs));
  console.log(row('baseline: bare timer lateness, own process', base, false));
  console.log(
    `  (xb: ratio to the baseline; ${figures.overlapped} of ${figures.gateLatchedMs.count} trials were delayed by another governor of the round writing its shutdown)`,
  );
  const triggers = Object.entries(figures.triggers).map(([t, n]) => `${t} ${n}`);
  console.log(`  shutdown triggers: ${triggers.join(', ')}`);
  const verdict = (p99: number): string => (p99 < TARGET_P99_MS ? 'PASS' : 'MISS');
  console.log(
    `  target p99 < ${TARGET_P99_MS} ms: gate latched ${verdict(figures.gateLatchedMs.p99)}, alert persisted ${verdict(figures.alertPersistedMs.p99)}; bare timer p99 ${base.p99.toFixed(1)} ms`,
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
