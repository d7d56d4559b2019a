/**
 * The fleet checker: reads the hosts' gate histories (every change of the gate's answer, and the
 * last `true` before each `false`, on the system-wide monotonic clock) and the windows in which a
 * gate must be closed: from a committed kill + leaseMs + ε until that host's operator restart,
 * and from the authority's loss (PostgreSQL frozen or stopped, the host partitioned or frozen)
 * + leaseMs + ε until it came back. A gate that answered `true` inside a window is a violation.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface OpenInterval {
  /** First and last `true` answers of one stretch the gate stayed open. */
  readonly from: number;
  readonly to: number;
}

export interface ClosedWindow {
  readonly host: string;
  /** The kill's commit (taken before it was sent) or the loss's start. */
  readonly from: number;
  /** The operator's restart, or the end of the loss; Infinity: until the end of the run. */
  readonly until: number;
  readonly why: string;
}

/**
 * The stretches a gate answered `true`, from its history file. A stretch still open at the end
 * (the process was killed, or the run ended) lasts until `endOf` (its death or the run's end).
 */
export function openIntervals(path: string, endOf: number): OpenInterval[] {
  if (!existsSync(path)) return [];
  const intervals: OpenInterval[] = [];
  let openedAt: number | null = null;
  let lastTrue = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [time, value] = line.trim().split(' ');
    if (time === undefined || value === undefined) continue;
    const t = Number(time);
    if (value === '1') {
      if (openedAt === null) openedAt = t;
      lastTrue = t;
    } else if (openedAt !== null) {
      intervals.push({ from: openedAt, to: lastTrue });
      openedAt = null;
    }
  }
  if (openedAt !== null) intervals.push({ from: openedAt, to: Math.max(lastTrue, endOf) });
  return intervals;
}

export interface Violation {
  readonly host: string;
  readonly why: string;
  /** How late the gate was still open past its bound (ms). */
  readonly lateMs: number;
}

export function check(
  histories: ReadonlyMap<string, readonly OpenInterval[]>,
  windows: readonly ClosedWindow[],
  leaseMs: number,
  epsilonMs: number,
): Violation[] {
  const violations: Violation[] = [];
  for (const window of windows) {
    const bound = window.from + leaseMs + epsilonMs;
    if (window.until <= bound) continue;
    for (const interval of histories.get(window.host) ?? []) {
      if (interval.to > bound && interval.from < window.until) {
        violations.push({
          host: window.host,
          why: window.why,
          lateMs: Math.min(interval.to, window.until) - (window.from + leaseMs),
        });
      }
    }
  }
  return violations;
}
