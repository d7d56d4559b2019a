/**
 * The data integrity verifier and the background scrub live in the integrity module
 * (persistence/integrity/: only persistence/ reads SQLite); this is their place in the health
 * services, as the embedding code and the CLI import them.
 */
export {
  anchorViolations,
  CLOCK_STEP_TOLERANCE_MS_DEFAULT,
  DataIntegrityVerifier,
  type DataIntegrityVerifierOptions,
  FUTURE_TOLERANCE_MS_DEFAULT,
  FUTURE_TOLERANCE_MS_MAX,
  type IntegrityCheckName,
  IntegrityScrubber,
  type IntegrityScrubberOptions,
  type IntegrityViolation,
  type ScrubProgress,
  type VerificationRun,
  type VerifiedHead,
  type VerifyAsyncOptions,
  type VerifyRunOptions,
  VIOLATIONS_PER_CHECK_MAX_DEFAULT,
} from '../../persistence/integrity/index.js';
