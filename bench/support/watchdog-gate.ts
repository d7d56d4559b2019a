/**
 * A prototype gate for the study in bench/gate-peers.ts, not used by governor: a worker thread
 * owns the deadline and closes a flag in a SharedArrayBuffer when it passes, so that the gate
 * is one atomic load. docs/benchmarks.md says why governor keeps its clock read instead.
 */
import { Worker } from 'node:worker_threads';

/**
 * Int32 slot 0 is the flag: 0 closed, otherwise the epoch of the deadline it was opened for.
 * The Float64 at byte 8 is that deadline in ms on the main thread's `performance.now()`
 * timeline, as governor's Gate keeps it. It is written before the flag's epoch is stored
 * (a release), and read after the epoch is loaded (an acquire). The Float64 at byte 16 is
 * when the worker last closed the flag, on the same timeline (for the study only).
 */
const FLAG_SLOT = 0;
const DEADLINE_BYTE_OFFSET = 8;
const CLOSED_AT_BYTE_OFFSET = 16;
const BUFFER_BYTES = 24;

/**
 * The worker reads the time on the main thread's timeline (through `process.hrtime.bigint()`,
 * CLOCK_MONOTONIC, and the main thread's origin on it), waits on the flag until the deadline,
 * then closes it by compare-and-swap on the epoch it read: a renewal in between wins, and a
 * changed epoch ends its wait at once. Plain JS: a worker cannot load TypeScript under tsx.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const control = new Int32Array(workerData.buffer, 0, 1);
const deadline = new Float64Array(workerData.buffer, ${DEADLINE_BYTE_OFFSET}, 1);
const closedAt = new Float64Array(workerData.buffer, ${CLOSED_AT_BYTE_OFFSET}, 1);
const originNs = workerData.mainOriginNs;
const nowMs = () => Number(process.hrtime.bigint() - originNs) / 1e6;
for (;;) {
  const epoch = Atomics.load(control, ${FLAG_SLOT});
  let waitMs = Infinity;
  if (epoch !== 0) {
    const now = nowMs();
    const remainingMs = deadline[0] - now;
    if (remainingMs > 0) waitMs = remainingMs;
    else if (Atomics.compareExchange(control, ${FLAG_SLOT}, epoch, 0) === epoch) closedAt[0] = now;
  }
  if (Atomics.load(control, ${FLAG_SLOT}) === epoch) Atomics.wait(control, ${FLAG_SLOT}, epoch, waitMs);
}
`;

export class WatchdogGate {
  private readonly flag: Int32Array;
  private readonly deadline: Float64Array;
  private readonly closedAt: Float64Array;
  private readonly worker: Worker;
  private epoch = 0;

  private constructor(buffer: SharedArrayBuffer, worker: Worker) {
    this.flag = new Int32Array(buffer, 0, 1);
    this.deadline = new Float64Array(buffer, DEADLINE_BYTE_OFFSET, 1);
    this.closedAt = new Float64Array(buffer, CLOSED_AT_BYTE_OFFSET, 1);
    this.worker = worker;
    // The main thread's own cover for a dead worker: it runs only when the event loop does.
    worker.on('exit', () => Atomics.store(this.flag, FLAG_SLOT, 0));
    worker.on('error', () => Atomics.store(this.flag, FLAG_SLOT, 0));
    worker.unref();
  }

  /** Starts the watchdog worker; resolves once it runs. */
  static async start(): Promise<WatchdogGate> {
    const buffer = new SharedArrayBuffer(BUFFER_BYTES);
    new Float64Array(buffer, CLOSED_AT_BYTE_OFFSET, 1)[0] = Number.NaN;
    // The instant on CLOCK_MONOTONIC at which this thread's performance.now() reads 0.
    const mainOriginNs = process.hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6));
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { buffer, mainOriginNs } });
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    return new WatchdogGate(buffer, worker);
  }

  /** The hot path: one atomic load. */
  canDeployCapital(): boolean {
    return Atomics.load(this.flag, FLAG_SLOT) !== 0;
  }

  /**
   * For the cost table only, not a valid gate: a non-atomic read of shared memory, which the
   * JavaScript memory model lets the JIT reuse instead of reading again (a hot loop could then
   * never see the worker close the flag).
   */
  canDeployCapitalUnordered(): boolean {
    return this.flag[FLAG_SLOT] !== 0;
  }

  /**
   * Opens (or renews) the gate until `deadlineMs` (this thread's performance.now()). With
   * `wake`, the worker re-reads the deadline at once (needed when the deadline moves earlier);
   * without it, the worker finds the new deadline when its current wait times out.
   */
  openUntil(deadlineMs: number, wake = true): void {
    this.deadline[0] = deadlineMs;
    this.epoch = this.epoch === 0x7fffffff ? 1 : this.epoch + 1;
    Atomics.store(this.flag, FLAG_SLOT, this.epoch);
    if (wake) Atomics.notify(this.flag, FLAG_SLOT);
  }

  /** When the worker last closed the flag (this thread's performance.now()); NaN: never. */
  get workerClosedAtMs(): number {
    return this.closedAt[0] ?? Number.NaN;
  }

  close(): void {
    Atomics.store(this.flag, FLAG_SLOT, 0);
    Atomics.notify(this.flag, FLAG_SLOT);
  }

  /**
   * Kills the worker, as a crash would: the flag stays as the worker left it until the main
   * thread's event loop delivers the worker's exit event.
   */
  killWorker(): Promise<number> {
    return this.worker.terminate();
  }
}
