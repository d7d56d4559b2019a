/**
 * The clock one simulated process sees: it reads and schedules on the shared SimulatedClock,
 * and remembers its timers so that a crash (`kill`) cancels them all, as the death of a
 * process would. It also satisfies XState's clock interface, as SimulatedClock does.
 */
import type { Clock, SimulatedClock, TimerHandle } from '../../services/clock.js';

export class ProcessClock implements Clock {
  private readonly timers = new Set<TimerHandle>();
  private dead = false;

  constructor(private readonly world: SimulatedClock) {}

  wallNow(): number {
    return this.world.wallNow();
  }

  monotonicNow(): number {
    return this.world.monotonicNow();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    if (this.dead) return { id: -1 };
    const handle = this.world.setTimeout(() => {
      this.timers.delete(handle);
      callback();
    }, delayMs);
    this.timers.add(handle);
    return handle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    this.timers.delete(handle);
    this.world.clearTimeout(handle);
  }

  /** The process died: none of its timers will ever fire, and it schedules no more. */
  kill(): void {
    this.dead = true;
    for (const handle of this.timers) this.world.clearTimeout(handle);
    this.timers.clear();
  }
}
