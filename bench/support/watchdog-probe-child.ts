/**
 * Child process of bench/gate-peers.ts: probes the prototype watchdog gate's failure modes with
 * its main thread busy (a stalled event loop that keeps calling the gate). The parent sends a
 * deadline on the host's monotonic clock and may SIGSTOP this process across it.
 */
import { WatchdogGate } from './watchdog-gate.js';

/** How long past its deadline a trial spins before giving up on the flag closing. */
const SPIN_PAST_DEADLINE_MS_MAX = 2_000;
/** How long a trial waits for the worker to record when it closed the flag. */
const CLOSED_AT_WAIT_MS_MAX = 100;

export type ProbeRequest =
  | { readonly kind: 'trial'; readonly deadlineNs: string }
  | { readonly kind: 'dead-worker'; readonly deadlineInMs: number; readonly spinMs: number };

export interface TrialResult {
  readonly kind: 'trial';
  /** From the deadline to the worker's closing of the flag, by its own clock (null: never). */
  readonly workerLateMs: number | null;
  /** Gate reads that answered "open" at or after the deadline: each one a broken guarantee. */
  readonly openReadsPastDeadline: number;
  /** The last of those, in ms after the deadline (null: none). */
  readonly lastOpenPastDeadlineMs: number | null;
}

export interface DeadWorkerResult {
  readonly kind: 'dead-worker';
  /** The last read (during the busy main thread) that answered "open", past the deadline. */
  readonly lastOpenPastDeadlineMs: number | null;
  /** Whether the flag was still open when the busy stretch ended. */
  readonly openAtEndOfSpin: boolean;
  /** Whether the main thread's exit handler closed it once the event loop ran again. */
  readonly closedOnceLoopRan: boolean;
}

/** A deadline on the host's CLOCK_MONOTONIC, on this thread's performance.now() timeline. */
function toPerformanceMs(deadlineNs: bigint): number {
  return performance.now() + Number(deadlineNs - process.hrtime.bigint()) / 1e6;
}

function trial(gate: WatchdogGate, deadlineNs: bigint): TrialResult {
  const closedBefore = gate.workerClosedAtMs;
  const deadlineMs = toPerformanceMs(deadlineNs);
  gate.openUntil(deadlineMs);
  let openReadsPastDeadline = 0;
  let lastOpenPastDeadlineMs: number | null = null;
  for (;;) {
    const nowMs = performance.now();
    if (!gate.canDeployCapital()) break;
    if (nowMs >= deadlineMs) {
      openReadsPastDeadline++;
      lastOpenPastDeadlineMs = nowMs - deadlineMs;
    }
    if (nowMs - deadlineMs > SPIN_PAST_DEADLINE_MS_MAX) break;
  }
  // The worker records the time just after its compare-and-swap closed the flag.
  const waitEndMs = performance.now() + CLOSED_AT_WAIT_MS_MAX;
  while (Object.is(gate.workerClosedAtMs, closedBefore) && performance.now() < waitEndMs) {}
  const closedAtMs = gate.workerClosedAtMs;
  return {
    kind: 'trial',
    workerLateMs: Object.is(closedAtMs, closedBefore) ? null : closedAtMs - deadlineMs,
    openReadsPastDeadline,
    lastOpenPastDeadlineMs,
  };
}

async function deadWorker(
  gate: WatchdogGate,
  deadlineInMs: number,
  spinMs: number,
): Promise<DeadWorkerResult> {
  const startMs = performance.now();
  const deadlineMs = startMs + deadlineInMs;
  gate.openUntil(deadlineMs);
  const exited = gate.killWorker();
  let lastOpenPastDeadlineMs: number | null = null;
  for (let nowMs = startMs; nowMs < startMs + spinMs; nowMs = performance.now()) {
    if (gate.canDeployCapital() && nowMs >= deadlineMs) lastOpenPastDeadlineMs = nowMs - deadlineMs;
  }
  const openAtEndOfSpin = gate.canDeployCapital();
  await exited;
  await new Promise((resolve) => setImmediate(resolve));
  return {
    kind: 'dead-worker',
    lastOpenPastDeadlineMs,
    openAtEndOfSpin,
    closedOnceLoopRan: !gate.canDeployCapital(),
  };
}

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('watchdog-probe-child runs under bench/gate-peers.ts');
  const gate = await WatchdogGate.start();
  process.on('message', (message: ProbeRequest) => {
    if (message.kind === 'trial') send(trial(gate, BigInt(message.deadlineNs)));
    else void deadWorker(gate, message.deadlineInMs, message.spinMs).then((result) => send(result));
  });
  send({ kind: 'ready' });
}

await main();
