/**
 * Child process of bench/detection.ts: the baseline. Bare timers with the same delay and the
 * same spacing as the governor child's trials, and nothing else in this process's event loop,
 * so their lateness is the host's and Node's, not governor's.
 */
import {
  type BaselineRound,
  type ChildRequest,
  scheduleStarts,
  THRESHOLD_MS,
} from './detection-protocol.js';

function round(trials: number): Promise<BaselineRound> {
  return new Promise((resolve) => {
    const latenessMs: number[] = [];
    scheduleStarts(trials, () => {
      const dueMs = performance.now() + THRESHOLD_MS;
      setTimeout(() => {
        latenessMs.push(performance.now() - dueMs);
        if (latenessMs.length === trials) resolve({ kind: 'baseline', latenessMs });
      }, THRESHOLD_MS);
    });
  });
}

const send = process.send?.bind(process);
if (send === undefined) throw new Error('detection-baseline-child runs under bench/detection.ts');
process.on('message', (message: ChildRequest) => {
  if (message.kind === 'end') process.exit(0);
  void round(message.trials).then((result) => send(result));
});
send({ kind: 'ready' });
