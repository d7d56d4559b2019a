/**
 * What must hold after every step of the statecharts, checked by the lifecycle's one observer
 * (in tests and in production): the gate agrees with the machine, a latch implies SHUTDOWN, and
 * the durable latch (as this process last read or wrote it) agrees with the snapshot. Each check
 * is a few comparisons on values already in memory: no I/O, no allocation unless one breaks.
 */
import type { LifecycleState, ShutdownLatch } from '../../machines/types.js';

/** What the checks read after a step; every field is already in memory. */
export interface InvariantView {
  /** The gate's flag (set only by AGGRESSIVE's entry and exit actions). */
  readonly gateOpen: boolean;
  /** The gate's answer now: its flag and its deadline against the monotonic clock. */
  readonly gateAnswersYes: boolean;
  readonly state: LifecycleState;
  /** The authority statechart is halted (the last lifecycle ended in SHUTDOWN). */
  readonly halted: boolean;
  /** The latch in force in the snapshot (SHUTDOWN's record), or null. */
  readonly latch: ShutdownLatch | null;
  /** The latch the running lifecycle began with (read from the durable record at its start). */
  readonly startedWithLatch: boolean;
  /** The durable record holds a latch, as this process last read or wrote it. */
  readonly recordedLatch: boolean;
}

/** The first invariant the view breaks, in words, or null when all hold. */
export function brokenInvariant(view: InvariantView): string | null {
  if (view.gateAnswersYes && (view.state !== 'AGGRESSIVE' || view.halted || view.latch !== null)) {
    return `the gate answers yes in ${view.halted ? 'halted ' : ''}${view.state}${view.latch === null ? '' : ' with a latch in force'}`;
  }
  if (view.gateOpen !== (view.state === 'AGGRESSIVE')) {
    return `the gate is ${view.gateOpen ? 'open' : 'closed'} in ${view.state}`;
  }
  if (view.halted && (view.state !== 'SHUTDOWN' || view.latch === null)) {
    return `halted, but the lifecycle is ${view.state}${view.latch === null ? ' with no latch' : ''}`;
  }
  if (view.state === 'SHUTDOWN' && view.latch === null) return 'SHUTDOWN with no latch recorded';
  if (view.startedWithLatch && view.state !== 'SHUTDOWN') {
    return `the lifecycle began with a latch and is ${view.state}`;
  }
  if (view.recordedLatch && view.state !== 'SHUTDOWN') {
    return `the durable record holds a latch while the machine is ${view.state}`;
  }
  return null;
}

/**
 * The durable latch as this process last read or wrote it: set when a lifecycle begins from a
 * record holding one and when a SHUTDOWN is persisted (database or fallback file), cleared when
 * an operator's restart begins a lifecycle from a record that holds none.
 */
export class RecordedLatch {
  private recorded = false;

  get held(): boolean {
    return this.recorded;
  }

  /** A lifecycle began (at construction, after a failure, or on a restart) from this record. */
  began(latch: ShutdownLatch | null): void {
    this.recorded = latch !== null;
  }

  /** A SHUTDOWN's latch was persisted (true) or could be written nowhere (false). */
  persisted(written: boolean): void {
    if (written) this.recorded = true;
  }
}

/** What the guard reads and what it does when an invariant breaks. */
export interface InvariantGuardDependencies {
  readonly gate: {
    readonly isOpen: boolean;
    canDeployCapital(): boolean;
    setOpen(open: boolean): void;
  };
  readonly lifecycle: () => {
    readonly state: LifecycleState;
    readonly halted: boolean;
    readonly latch: ShutdownLatch | null;
    readonly context: { readonly latch: ShutdownLatch | null };
  };
  /** A closed governor checks nothing (its gate is closed for good). */
  readonly closed: () => boolean;
  /** The gate is already closed: log, then shut down (INVARIANT_VIOLATED). */
  readonly broken: (reason: string) => void;
}

/** Runs the checks after each step; a broken invariant closes the gate first, then shuts down. */
export class InvariantGuard {
  readonly recordedLatch = new RecordedLatch();
  /** True while a broken invariant is being acted on (the shutdown is itself a step). */
  private acting = false;
  /** A broken invariant's shutdown was requested and SHUTDOWN is not entered yet. */
  private shuttingDown = false;
  private checks = 0;

  constructor(private readonly deps: InvariantGuardDependencies) {}

  /** How many steps were checked (for tests and the inspector). */
  get checked(): number {
    return this.checks;
  }

  /** After every step of either statechart. */
  check(): void {
    if (this.acting || this.deps.closed()) return;
    this.checks += 1;
    const lifecycle = this.deps.lifecycle();
    if (this.shuttingDown) {
      // The shutdown for a broken invariant is on its way (queued behind this step): the gate
      // stays closed meanwhile, and the checks resume once SHUTDOWN is entered.
      this.deps.gate.setOpen(false);
      if (lifecycle.state !== 'SHUTDOWN') return;
      this.shuttingDown = false;
    }
    const broken = brokenInvariant({
      gateOpen: this.deps.gate.isOpen,
      gateAnswersYes: this.deps.gate.canDeployCapital(),
      state: lifecycle.state,
      halted: lifecycle.halted,
      latch: lifecycle.latch,
      startedWithLatch: lifecycle.context.latch !== null,
      recordedLatch: this.recordedLatch.held,
    });
    if (broken === null) return;
    this.acting = true;
    this.shuttingDown = true;
    try {
      this.deps.gate.setOpen(false);
      this.deps.broken(broken);
    } finally {
      this.acting = false;
    }
  }
}

/** What the testing seam can break (trading-governor/testing). */
export type Inconsistency = 'gate-open' | 'latch-recorded';

/** Breaks an invariant without a step; the guard's next check finds it. */
export function forceInconsistency(
  kind: Inconsistency,
  target: { gate: { setOpen(open: boolean): void }; invariants: InvariantGuard },
): void {
  if (kind === 'gate-open') target.gate.setOpen(true);
  else target.invariants.recordedLatch.persisted(true);
}
