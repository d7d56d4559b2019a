/**
 * The integrity module: the verifier (startup, periodic, `governor verify`), the background
 * scrub, the head anchor, and the read access they share. Layout: chain-*.ts (the one chain
 * walker, its row pages, in-thread and worker drivers), checks/ (one file per table check, and
 * the event log's checks around the walk), data-integrity-verifier.ts (with verifier-options.ts and
 * verification-run.ts), integrity-scrubber.ts, head-anchor.ts.
 */
export type { ChainProblem, ChainVerification } from './chain-in-thread.js';
export type { EventFinding, EventFindingKind, ScanPosition } from './chain-walk.js';
export { anchorViolations } from './checks/event-log.js';
export {
  CLOCK_STEP_TOLERANCE_MS_DEFAULT,
  DataIntegrityVerifier,
  type DataIntegrityVerifierOptions,
  FUTURE_TOLERANCE_MS_DEFAULT,
  FUTURE_TOLERANCE_MS_MAX,
  PARALLEL_EVENTS_MIN_DEFAULT,
  type VerificationRun,
  type VerifiedHead,
  type VerifyAsyncOptions,
  type VerifyRunOptions,
  VIOLATIONS_PER_CHECK_MAX_DEFAULT,
  WORKERS_MAX_DEFAULT,
} from './data-integrity-verifier.js';
export {
  HEAD_ANCHOR_SUFFIX,
  type HeadAnchor,
  headAnchorPathFor,
  isHeadHash,
  readHeadAnchor,
  writeHeadAnchor,
} from './head-anchor.js';
export { IntegrityScan } from './integrity-scan.js';
export {
  IntegrityScrubber,
  type IntegrityScrubberOptions,
  SCRUB_PASS_MS_DEFAULT,
  SCRUB_SLICE_MS_MAX_DEFAULT,
  SCRUB_SLICE_ROWS_MAX_DEFAULT,
  type ScrubProgress,
} from './integrity-scrubber.js';
export type { IntegrityCheckName, IntegrityViolation } from './violation.js';
