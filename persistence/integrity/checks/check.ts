/**
 * The shape of a table check: one file per check owns its SQL scan and the violations it makes
 * of what it finds; checks/index.ts lists them. The verifier runs each inside one read snapshot,
 * caps what it lists and remembers where an incremental scan resumes.
 */
import type { Store } from '../../store.js';
import type { IntegrityCheckName, IntegrityViolation } from '../violation.js';

export interface CheckRun {
  readonly store: Store;
  /** Everything (startup, `governor verify`, the scrub), or only what is new where a check can tell. */
  readonly full: boolean;
  /** Findings to list; a check counts the rest in `dropped`. */
  readonly findingsMax: number;
  /** What this check's previous scan returned as `resumeAt` (0 on a full run). */
  readonly resumeAfter: number;
}

export interface CheckFindings {
  readonly violations: readonly IntegrityViolation[];
  /** Findings beyond those listed, counted. */
  readonly dropped: number;
  /** Where the next incremental scan resumes (0 for a check that always reads everything). */
  readonly resumeAt: number;
}

export interface TableCheck {
  readonly name: IntegrityCheckName;
  /** Reads only; runs inside the verifier's read snapshot. */
  scan(run: CheckRun): CheckFindings;
}

/** True when `check` does not throw: the store's own validators, reused on stored values. */
export function passes(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}
