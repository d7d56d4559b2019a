/**
 * The simulator's fault schedule: the kinds of things that happen to an embedded governor
 * (feed gaps, error bursts, storage faults, capital drift, adapters down, stalls, crashes,
 * wall-clock jumps, operator actions) and their seeded generation over a number of days.
 */
import type { FaultMode } from '../../persistence/faults.js';
import type { Prng } from './prng.js';

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** One scheduled happening; `atMs` is simulated monotonic time from the start of the run. */
export type Action =
  | { atMs: number; kind: 'marketGap'; durationMs: number }
  | { atMs: number; kind: 'errorBurst'; count: number }
  | { atMs: number; kind: 'writeFault'; mode: FaultMode; durationMs: number }
  | { atMs: number; kind: 'failNextWrites'; mode: FaultMode; count: number }
  | { atMs: number; kind: 'snapshotFault'; mode: FaultMode; durationMs: number }
  | { atMs: number; kind: 'capitalDrift'; amountMinor: number }
  | { atMs: number; kind: 'adapterDown'; durationMs: number }
  | { atMs: number; kind: 'adapterHang'; durationMs: number }
  | { atMs: number; kind: 'queueStall'; durationMs: number }
  | { atMs: number; kind: 'stall'; durationMs: number }
  | { atMs: number; kind: 'crash' }
  | { atMs: number; kind: 'secondOwner' }
  | { atMs: number; kind: 'outOfBandShutdown' }
  | { atMs: number; kind: 'wallJump'; jumpMs: number }
  | { atMs: number; kind: 'operatorObserve' }
  | { atMs: number; kind: 'operatorResume' }
  | { atMs: number; kind: 'operatorShutdown' };

export type ActionKind = Action['kind'];

/** What the generator may pick: the actions, plus a crash loop (expanded into crashes). */
type GeneratedKind = ActionKind | 'crashLoop';

const MODES: readonly FaultMode[] = ['SQLITE_IOERR', 'SQLITE_FULL', 'READONLY', 'LOCKED'];

/** Relative frequencies of the action kinds. */
const WEIGHTS: ReadonlyArray<readonly [GeneratedKind, number]> = [
  ['marketGap', 14],
  ['errorBurst', 8],
  ['writeFault', 10],
  ['failNextWrites', 6],
  ['snapshotFault', 3],
  ['capitalDrift', 3],
  ['adapterDown', 4],
  ['adapterHang', 3],
  ['queueStall', 2],
  ['stall', 9],
  ['crash', 6],
  ['crashLoop', 2],
  ['secondOwner', 2],
  ['outOfBandShutdown', 2],
  ['wallJump', 5],
  ['operatorObserve', 3],
  ['operatorResume', 3],
  ['operatorShutdown', 2],
];
const WEIGHT_TOTAL = WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);

/** Mean simulated time between two scheduled actions. */
export const ACTION_GAP_MEAN_MS = 90 * MINUTE_MS;
/** Bound on a schedule's length, whatever the number of days. */
export const ACTIONS_MAX = 100_000;

function pickKind(rng: Prng): GeneratedKind {
  let roll = rng.float() * WEIGHT_TOTAL;
  for (const [kind, weight] of WEIGHTS) {
    roll -= weight;
    if (roll < 0) return kind;
  }
  return 'marketGap';
}

function makeAction(kind: ActionKind, atMs: number, rng: Prng): Action {
  switch (kind) {
    case 'marketGap': {
      const long = rng.chance(0.4);
      const durationMs = long
        ? rng.logDurationMs(4 * MINUTE_MS, 20 * MINUTE_MS)
        : rng.logDurationMs(10 * SECOND_MS, 4 * MINUTE_MS);
      return { atMs, kind, durationMs };
    }
    case 'errorBurst':
      return { atMs, kind, count: rng.chance(0.3) ? rng.int(11, 20) : rng.int(1, 10) };
    case 'writeFault':
      return {
        atMs,
        kind,
        mode: rng.pick(MODES),
        durationMs: rng.logDurationMs(5 * SECOND_MS, 25 * MINUTE_MS),
      };
    case 'failNextWrites':
      return { atMs, kind, mode: rng.pick(MODES), count: rng.int(1, 4) };
    case 'snapshotFault':
      return {
        atMs,
        kind,
        mode: rng.pick(MODES),
        durationMs: rng.logDurationMs(HOUR_MS, 30 * HOUR_MS),
      };
    case 'capitalDrift':
      return { atMs, kind, amountMinor: rng.chance(0.5) ? rng.int(1, 100) : -rng.int(1, 100) };
    case 'adapterDown':
    case 'adapterHang':
      return { atMs, kind, durationMs: rng.logDurationMs(5 * MINUTE_MS, 3 * HOUR_MS) };
    case 'queueStall':
      return { atMs, kind, durationMs: rng.logDurationMs(10 * SECOND_MS, 10 * MINUTE_MS) };
    case 'stall':
      return { atMs, kind, durationMs: rng.logDurationMs(100, 6 * MINUTE_MS) };
    case 'wallJump': {
      const jumpMs = rng.chance(0.3) ? DAY_MS : rng.logDurationMs(MINUTE_MS, DAY_MS);
      return { atMs, kind, jumpMs: rng.chance(0.5) ? jumpMs : -jumpMs };
    }
    default:
      return { atMs, kind };
  }
}

/**
 * A crash loop: the engine dies every few minutes, several times in a row (often while the
 * feed is dead: each restart must carry the input ages on, so the loop still shuts down).
 */
function crashLoop(atMs: number, rng: Prng): Action[] {
  const count = rng.int(3, 12);
  const intervalMs = rng.logDurationMs(MINUTE_MS, 6 * MINUTE_MS);
  const actions: Action[] = [];
  if (rng.chance(0.5)) {
    actions.push({ atMs, kind: 'marketGap', durationMs: (count + 1) * intervalMs });
  }
  for (let i = 1; i <= count; i++) actions.push({ atMs: atMs + i * intervalMs, kind: 'crash' });
  return actions;
}

/** The schedule of one seed: actions in time order over `days` simulated days. */
export function generateSchedule(rng: Prng, days: number): Action[] {
  const endMs = days * DAY_MS;
  const actions: Action[] = [];
  let atMs = 0;
  while (actions.length < ACTIONS_MAX) {
    // Exponential gaps (a Poisson process), at least a second apart, on whole milliseconds.
    atMs += Math.max(SECOND_MS, Math.round(-Math.log(1 - rng.float()) * ACTION_GAP_MEAN_MS));
    if (atMs >= endMs) break;
    const kind = pickKind(rng);
    if (kind === 'crashLoop') actions.push(...crashLoop(atMs, rng).filter((a) => a.atMs < endMs));
    else actions.push(makeAction(kind, atMs, rng));
  }
  return actions.sort((a, b) => a.atMs - b.atMs).slice(0, ACTIONS_MAX);
}
