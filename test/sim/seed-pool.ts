/**
 * Runs the simulator's seeds in child processes (`seed-worker.ts`), at most `jobs` at once, each
 * seed whole in one process: a seed's run, digest and result are those it has alone, only the
 * wall time is shared (`end` tells a child to exit). Reports each result as it arrives; `onReport` returning false stops
 * handing out seeds (those already running finish).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SimResult } from './simulator.js';

export interface SeedTask {
  readonly seed: number;
  readonly days: number;
  readonly stopAtFirstViolation: boolean;
  readonly withoutKinds: readonly string[];
}

export interface SeedReport {
  readonly result: SimResult;
  /** Unhandled rejections the child saw while the seed ran. */
  readonly unhandled: readonly string[];
}

const WORKER_ENTRY = fileURLToPath(new URL('./seed-worker.ts', import.meta.url));

export function runSeedsInProcesses(
  tasks: readonly SeedTask[],
  jobs: number,
  onReport: (report: SeedReport) => boolean,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let stopping = false;
    let failure: Error | null = null;
    const workers = Math.max(1, Math.min(jobs, tasks.length));
    let live = workers;
    const handOut = (child: ChildProcess): SeedTask | null => {
      const task = stopping ? undefined : tasks[next];
      if (task === undefined) {
        child.send('end');
        return null;
      }
      next++;
      child.send(task);
      return task;
    };
    for (let i = 0; i < workers; i++) {
      // The child inherits this process's loader flags (tsx) and its stdout and stderr.
      const child = fork(WORKER_ENTRY, [], { serialization: 'advanced' });
      let running: SeedTask | null = handOut(child);
      child.on('message', (report: SeedReport) => {
        running = null;
        if (!onReport(report)) stopping = true;
        running = handOut(child);
      });
      child.on('exit', (code, signal) => {
        live--;
        if (running !== null) {
          failure ??= new Error(`seed ${running.seed}: its process exited (${signal ?? code})`);
          stopping = true;
        }
        if (live === 0) {
          if (failure === null) resolve();
          else reject(failure);
        }
      });
    }
  });
}
