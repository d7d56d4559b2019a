/**
 * governor's public API: what an execution engine imports to ask "may I deploy capital now?".
 */

// machines: the lifecycle statechart
export * from './machines/index.js';
// persistence: the SQLite store
export * from './persistence/index.js';
// services: time, errors, logging
export { type Clock, SimulatedClock, SystemClock, type TimerHandle } from './services/clock.js';
export {
  AssertionError,
  ERROR_CATALOGUE,
  type ErrorCode,
  GovernorError,
  isGovernorError,
} from './services/errors.js';
export { createLogger, type Logger, silentLogger } from './services/logger.js';
