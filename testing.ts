/**
 * `trading-governor/testing`: what test harnesses and simulators need and production code must not use:
 * the deterministic clock, fault injection at the store (injected, or real SQLite faults on the
 * GovernanceSystem's own connection), and a simulated crash (kill -9).
 */
import { applyRealFault as applyToConnection, type FaultMode } from './persistence/faults.js';
import type { GovernanceSystem } from './services/governor/governance-system.js';
import {
  FORCE_INCONSISTENCY,
  RAW_CONNECTION,
  SIMULATE_CRASH,
} from './services/governor/internal-symbols.js';
import type { Inconsistency } from './services/governor/invariants.js';

export { FAULT_MODES, FaultInjector, type FaultMode, tamperBalance } from './persistence/faults.js';
export { SimulatedClock } from './services/clock.js';

/**
 * Makes a GovernanceSystem die as a process killed with kill -9 would: nothing more is written
 * (no stop event, no final persist), its timers stop, and its ownership of the database is
 * freed, so another GovernanceSystem may open the same file.
 */
export function simulateCrash(governance: GovernanceSystem): void {
  governance[SIMULATE_CRASH]();
}

/**
 * Produces a storage fault with real SQLite on the GovernanceSystem's own connection (a full
 * disk, a read-only database, a lock held by another connection); returns its undo.
 */
export function applyRealFault(governance: GovernanceSystem, mode: FaultMode): () => void {
  return applyToConnection(governance[RAW_CONNECTION](), mode);
}

/**
 * Makes a GovernanceSystem's own state inconsistent, as a bug or a corrupted memory would:
 * `gate-open` opens the gate's flag outside AGGRESSIVE; `latch-recorded` marks the durable latch
 * as recorded while the machine runs. The next machine step finds it and shuts down
 * (INVARIANT_VIOLATED).
 */
export function forceInconsistency(governance: GovernanceSystem, kind: Inconsistency): void {
  governance[FORCE_INCONSISTENCY](kind);
}
