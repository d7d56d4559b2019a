/**
 * The gate: the answer to "may I deploy capital now?". It is open only between the machine's
 * AGGRESSIVE entry and exit actions, and only until its deadline: the earliest instant at which
 * any rule could close it (the heartbeat lease, and the moments market data, event-log writes
 * and snapshots turn stale), kept current as inputs are reported. One flag and one comparison
 * against the monotonic clock at call time: no allocation, no I/O, no actor.
 */
import type { Clock } from '../clock.js';

export class Gate {
  private open = false;
  /**
   * Monotonic ms: the last instant the gate may be open (every input fresh through it, as
   * services/health/staleness.ts judges: stale only when older than its limit). Past it, the gate
   * is closed by itself, even if nothing else runs.
   */
  private deadlineMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly clock: Pick<Clock, 'monotonicNow'>) {}

  /** True only while open and not past the deadline. O(1), allocation-free. */
  canDeployCapital(): boolean {
    return this.canDeployCapitalAt(this.clock.monotonicNow());
  }

  /** The same answer at a monotonic instant the caller read (one clock read for a decision). */
  canDeployCapitalAt(nowMs: number): boolean {
    return this.open && nowMs <= this.deadlineMs;
  }

  /** Called only by the machine's AGGRESSIVE entry (openGate) and exit (closeGate) actions. */
  setOpen(open: boolean): void {
    this.open = open;
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Moves the deadline (a renewed lease, a fresh input, or an input going stale sooner). */
  setDeadline(deadlineMs: number): void {
    this.deadlineMs = deadlineMs;
  }
}
