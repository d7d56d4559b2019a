/**
 * A child process of the simulator's runner (`seed-pool.ts`): runs the seeds it is sent over IPC,
 * one at a time, each exactly as the runner would in its own process, and sends back each
 * result with the unhandled rejections seen while it ran. The message `end` ends it.
 */
import type { SeedReport, SeedTask } from './seed-pool.js';
import { runSeed } from './simulator.js';

const unhandled: string[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(String(reason)));

process.on('message', (task: SeedTask | 'end') => {
  if (task === 'end') {
    process.disconnect();
    return;
  }
  void runSeed({
    seed: task.seed,
    days: task.days,
    stopAtFirstViolation: task.stopAtFirstViolation,
    ...(task.withoutKinds.length === 0 ? {} : { withoutKinds: task.withoutKinds }),
  }).then((result) => {
    const report: SeedReport = { result, unhandled: unhandled.splice(0) };
    process.send?.(report);
  });
});
