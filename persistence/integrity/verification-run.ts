/**
 * One verification run's data: the plan decided before anything is read, what the run read in
 * its snapshot besides the chain walk, the record a caller reads afterwards, and the assembly of
 * the findings into violations in their reporting order (the event log's first, each check
 * capped, what earlier runs found carried). Pure; the verifier keeps the state between runs.
 */
import type { ChainRules, ChainWalk, ScanPosition } from './chain-walk.js';
import { fromEventFinding } from './checks/event-log.js';
import type { HeadAnchor } from './head-anchor.js';
import {
  capViolations,
  type IntegrityCheckName,
  type IntegrityViolation,
  withoutRepeats,
} from './violation.js';

/** The event-log head the last clean verification reached (and anchored). */
export interface VerifiedHead {
  readonly seq: number;
  readonly hash: string;
  /** ISO-8601 wall time of that verification. */
  readonly at: string;
}

export interface VerificationRun {
  readonly full: boolean;
  readonly eventsChecked: number;
  /** First seq examined by the walk (null when nothing was new). */
  readonly fromSeq: number | null;
  readonly anchor: HeadAnchor | null;
  readonly anchorWritten: boolean;
  /** Worker threads the chain walk used (0: the calling thread). */
  readonly workers: number;
}

/** One run, decided before anything is read. */
export interface RunPlan {
  readonly full: boolean;
  readonly start: ScanPosition | null;
  readonly anchor: HeadAnchor | null;
  readonly at: string;
  readonly rules: ChainRules;
  /** Violations found before the scan (an unreadable anchor). */
  readonly early: readonly IntegrityViolation[];
  /** Chain damage of earlier runs, still reported (none in a full run). */
  readonly carriedChain: readonly IntegrityViolation[];
  /** Table violations adopted from the scrub, still reported (none in a full run). */
  readonly adopted: readonly IntegrityViolation[];
  /** The verifier's generation when the run began: another run completing meanwhile changes it. */
  readonly generation: number;
}

/** What the run read inside its snapshot, apart from the chain walk. */
export interface SnapshotScan {
  /** Where the walk starts: the run's start, or in a full run the chain base (null: seq 1). */
  readonly start: ScanPosition | null;
  readonly structure: readonly IntegrityViolation[];
  readonly beforeWalk: readonly IntegrityViolation[];
  readonly tables: ReadonlyArray<{
    readonly name: IntegrityCheckName;
    readonly violations: readonly IntegrityViolation[];
    readonly dropped: number;
    readonly resumeAt: number;
  }>;
}

/**
 * The run's violations in their reporting order: those found before the scan, the structure
 * check's, the event log's (carried, before the walk, then the walk's, capped), then each
 * table's (adopted, then found, capped). `chain` is the event log's part alone.
 */
export function assembleViolations(
  plan: RunPlan,
  snapshot: SnapshotScan,
  walk: ChainWalk,
  perCheckMax: number,
): { chain: IntegrityViolation[]; violations: IntegrityViolation[] } {
  const chain = capViolations(
    'EVENT_LOG',
    withoutRepeats(plan.carriedChain, [
      ...snapshot.beforeWalk,
      ...walk.findings.map(fromEventFinding),
    ]),
    walk.findingsDropped,
    perCheckMax,
  );
  const violations: IntegrityViolation[] = [...plan.early, ...snapshot.structure, ...chain];
  for (const table of snapshot.tables) {
    const adopted = plan.adopted.filter((v) => v.check === table.name);
    violations.push(
      ...capViolations(
        table.name,
        withoutRepeats(adopted, table.violations),
        table.dropped,
        perCheckMax,
      ),
    );
  }
  return { chain, violations };
}
