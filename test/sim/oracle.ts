/**
 * The simulator's independent model of what governor must do: it knows every fault it injected
 * and when, derives the instant by which each trigger must have been detected, what may open the
 * gate, which shutdowns are justified and how many alerts each incident deserves, and reports
 * any difference from what the GovernanceSystem actually did as a violated invariant.
 */

import type Sqlite from 'better-sqlite3';
import type { LifecycleState, ObserveCause, ShutdownTrigger } from '../../machines/types.js';
import type { FaultInjector, FaultMode } from '../../persistence/faults.js';
import {
  CLOCK_STEP_TOLERANCE_MS_DEFAULT,
  FUTURE_TOLERANCE_MS_DEFAULT,
} from '../../persistence/integrity/index.js';
import type { AlertKind } from '../../services/alerts/types.js';
import type { Thresholds } from '../../services/config.js';
import type { GovernanceSystem, ModeChange } from '../../services/governor/governance-system.js';
import type { Action } from './schedule.js';

/** Detection must happen within this of the first instant a threshold is crossed. */
export const DETECTION_SLACK_MS = 100;
const SIM_ERRORS_KEPT = 64;

export type Violate = (invariant: string, detail: string) => void;

interface StandingFault {
  readonly mode: FaultMode;
  readonly sinceMs: number;
  untilMs: number;
}

interface Epoch {
  heartbeatAlerts: number;
  integrityAlerts: number;
  heartbeatTransitions: number;
  integrityTransitions: number;
}

interface Deadline {
  readonly atMs: number;
  readonly rule: string;
}

const freshEpoch = (): Epoch => ({
  heartbeatAlerts: 0,
  integrityAlerts: 0,
  heartbeatTransitions: 0,
  integrityTransitions: 0,
});

/** The observe causes a restart must remember (held until an operator resumes). */
const HELD: ReadonlySet<ObserveCause> = new Set([
  'STARTUP_CHECKS_FAILED',
  'HEARTBEAT_LOST',
  'INTEGRITY_VIOLATION',
]);

export class Oracle {
  private processStartMs = 0;
  /** The wall clock's offset from the simulated monotonic clock (the sum of its steps). */
  private wallOffsetMs = 0;
  /** The highest reading of the wall clock so far (as an offset instant: before a step). */
  private wallHighMs = Number.NEGATIVE_INFINITY;
  /**
   * A verification may have found timestamps in the future (the wall clock was set back past
   * its tolerance). Its findings are reported until a full verification passes, which clears
   * this (a start's or an operator restart's visit that reaches AGGRESSIVE).
   */
  private futureFindingsPossible = false;
  private fullVisit = true;
  /**
   * From when the capital and queue rules count at the latest: the first start, carried across a
   * crash, or the restart when the last heartbeat before the crash may not have been persisted.
   */
  private agesFromMs = 0;
  private agesCarry = true;
  /**
   * The instant (simulated monotonic) governor must judge market data from: the last tick, or at
   * a restart the instant its restored age points to (see `restarting`: a restart forgets
   * nothing, downtime included).
   */
  private marketViewMs = 0;
  /**
   * The latest instant governor may judge the last snapshot from (its detection deadline counts
   * from here): the last write, or at a restart the freshest the rule allows.
   */
  private snapshotViewMs = 0;
  /** The wall time of the last successful snapshot write (its `written_at`), or null. */
  private lastSnapshotOkWallMs: number | null = null;
  /**
   * Wall-clock steps forward since the last successful snapshot: a restart counts wall time, so
   * governor may judge the snapshot older than it is by at most these (no-false-trigger).
   */
  private forwardJumpsSinceSnapshotMs = 0;
  private started = false;
  /** OBSERVE_ONLY for a failure, not yet resumed by an operator: no process may trade. */
  private held = false;
  private marketGapUntilMs = Number.NEGATIVE_INFINITY;
  lastSnapshotOkMs = Number.NEGATIVE_INFINITY;
  private globalFault: StandingFault | null = null;
  private snapshotFault: StandingFault | null = null;
  private adapterDownUntilMs = Number.NEGATIVE_INFINITY;
  private adapterHangUntilMs = Number.NEGATIVE_INFINITY;
  private queueStalledSinceMs: number | null = null;
  private queueStallUntilMs = Number.NEGATIVE_INFINITY;
  private drift: { sinceMs: number; netMinor: number } | null = null;
  private readonly simErrorTimesMs: number[] = [];
  private lastWriteTroubleMs = Number.NEGATIVE_INFINITY;
  private lastLongStallEndMs = Number.NEGATIVE_INFINITY;
  private lastWritableLoopMs = 0;
  private latched = false;
  private killRequested = false;
  private visitDoom: string | null = null;
  private shutdownIncidents = 0;
  private shutdownAlerts = 0;
  private startupIncidents = 0;
  private startupAlerts = 0;
  private epoch: Epoch = freshEpoch();

  constructor(
    private readonly thresholds: Thresholds,
    private readonly violate: Violate,
  ) {}

  // ---------------------------------------------------------------------------------------
  // What the simulator did

  processStarted(nowMs: number, gov: GovernanceSystem): void {
    this.fullVisit = true;
    this.processStartMs = nowMs;
    if (!this.started || !this.agesCarry) this.agesFromMs = nowMs;
    if (!this.started) {
      // A new database: nothing recorded, no snapshot; every age counts from this start.
      this.marketViewMs = nowMs;
      this.snapshotViewMs = nowMs;
    }
    this.started = true;
    this.agesCarry = true;
    this.epoch = freshEpoch();
    if (this.writesPossible()) this.lastWritableLoopMs = nowMs;
    if (this.queueStalledSinceMs !== null) gov.healthMonitor.setExecutionQueueStatus('STALLED');
  }

  newEpoch(): void {
    this.epoch = freshEpoch();
  }

  /** An operator resumed: the failure is no longer held. */
  operatorResumed(): void {
    this.held = false;
    this.newEpoch();
  }

  operatorRestarted(_nowMs: number): void {
    this.fullVisit = true;
    this.latched = false;
    this.held = false;
    this.newEpoch();
  }

  wallJumped(jumpMs: number, nowMs: number): void {
    if (jumpMs > 0) this.forwardJumpsSinceSnapshotMs += jumpMs;
    this.wallHighMs = Math.max(this.wallHighMs, nowMs + this.wallOffsetMs);
    this.wallOffsetMs += jumpMs;
    this.wallSetBackPastTolerance(nowMs);
  }

  /**
   * Whether an event may carry a timestamp further ahead of the wall clock now than a full
   * verification tolerates: the wall clock was set back, in all since its highest reading, by
   * more than the future and clock-step tolerances (a day and five minutes, by default). The
   * verifier cannot tell that from an edited timestamp, and says so (INTEGRITY_VIOLATION).
   */
  private wallSetBackPastTolerance(nowMs: number): boolean {
    const behindMs = this.wallHighMs - (nowMs + this.wallOffsetMs);
    if (behindMs > FUTURE_TOLERANCE_MS_DEFAULT + CLOCK_STEP_TOLERANCE_MS_DEFAULT) {
      this.futureFindingsPossible = true;
    }
    return this.futureFindingsPossible;
  }

  /**
   * The process died. The capital and queue rules carry on when its last heartbeat could be
   * persisted: no write trouble within two heartbeat intervals.
   */
  crashed(nowMs: number): void {
    const t = this.thresholds;
    this.agesCarry =
      this.globalFault === null && nowMs - this.lastWriteTroubleMs > 2 * t.heartbeatIntervalMs;
  }

  /**
   * A new process is about to start on the file: the ages it must start from, by the rule a
   * restart follows (a restart forgets nothing): each input's age as last recorded plus the
   * wall time since it was recorded, none when the wall clock went back; a snapshot written after
   * the record, by the wall time since it was written. With no record, the latest snapshot's wall
   * age, and market data from the restart.
   */
  restarting(nowMs: number, wallNowMs: number, inputsText: string | null): void {
    const record = parseRecord(inputsText);
    // The last snapshot the simulator wrote, aged by the wall time since it was written.
    const written =
      this.lastSnapshotOkWallMs === null
        ? Number.NEGATIVE_INFINITY
        : nowMs - Math.max(0, wallNowMs - this.lastSnapshotOkWallMs);
    if (record === null) {
      this.marketViewMs = nowMs;
      this.snapshotViewMs = this.lastSnapshotOkWallMs === null ? nowMs : written;
      return;
    }
    const downMs = Math.max(0, wallNowMs - Date.parse(record.at));
    this.marketViewMs = nowMs - (record.marketDataAgeMs + downMs);
    // From the record, or from the snapshot itself when it was written after the record.
    this.snapshotViewMs = Math.max(nowMs - (record.snapshotWriteAgeMs + downMs), written);
  }

  operatorKill(requested: boolean): void {
    this.killRequested = requested;
  }

  visitStarted(nowMs: number): void {
    const reasons: string[] = [];
    if (nowMs < this.adapterHangUntilMs) reasons.push('adapter hanging');
    else if (nowMs < this.adapterDownUntilMs) reasons.push('adapter down');
    if (this.drift !== null) reasons.push('capital drift');
    if (this.globalFault !== null) reasons.push(`writes failing (${this.globalFault.mode})`);
    this.visitDoom = reasons.length > 0 ? reasons.join(', ') : null;
  }

  marketFeedUp(nowMs: number): boolean {
    return nowMs >= this.marketGapUntilMs;
  }

  marketData(nowMs: number): void {
    this.marketViewMs = nowMs;
  }

  snapshotWritten(nowMs: number, wallNowMs: number): void {
    this.lastSnapshotOkMs = nowMs;
    this.snapshotViewMs = nowMs;
    this.lastSnapshotOkWallMs = wallNowMs;
    this.forwardJumpsSinceSnapshotMs = 0;
  }

  errorRecorded(nowMs: number): void {
    this.simErrorTimesMs.push(nowMs);
    if (this.simErrorTimesMs.length > SIM_ERRORS_KEPT) this.simErrorTimesMs.shift();
  }

  capitalDrifted(nowMs: number, amountMinor: number): void {
    const net = (this.drift?.netMinor ?? 0) + amountMinor;
    this.drift = net === 0 ? null : { sinceMs: this.drift?.sinceMs ?? nowMs, netMinor: net };
  }

  /** The operator reconciles the pool before restarting (as the runbook says). */
  repairCapital(db: Sqlite.Database): void {
    if (this.drift === null) return;
    db.prepare('UPDATE capital_pools SET total_minor = total_minor - ? WHERE pool_id = ?').run(
      this.drift.netMinor,
      'main',
    );
    this.drift = null;
  }

  adapterPing(nowMs: number): Promise<boolean> | boolean {
    if (nowMs < this.adapterHangUntilMs) return new Promise<boolean>(() => {});
    return nowMs >= this.adapterDownUntilMs;
  }

  writesPossible(): boolean {
    return this.globalFault === null;
  }

  loopRanWritable(nowMs: number): void {
    this.lastWritableLoopMs = nowMs;
  }

  stalled(nowMs: number, durationMs: number): void {
    const t = this.thresholds;
    if (durationMs >= t.heartbeatLossMs - t.heartbeatIntervalMs) this.lastLongStallEndMs = nowMs;
  }

  applyFault(action: Action, nowMs: number, faults: FaultInjector, gov: GovernanceSystem): void {
    switch (action.kind) {
      case 'marketGap':
        this.marketGapUntilMs = Math.max(this.marketGapUntilMs, nowMs + action.durationMs);
        break;
      case 'writeFault':
        this.globalFault = {
          mode: action.mode,
          sinceMs: this.globalFault?.sinceMs ?? nowMs,
          untilMs: Math.max(this.globalFault?.untilMs ?? 0, nowMs + action.durationMs),
        };
        this.lastWriteTroubleMs = nowMs;
        break;
      case 'failNextWrites':
        faults.failNextWrites(action.count, action.mode);
        this.lastWriteTroubleMs = nowMs + action.count * this.thresholds.heartbeatIntervalMs;
        break;
      case 'snapshotFault':
        this.snapshotFault = {
          mode: action.mode,
          sinceMs: this.snapshotFault?.sinceMs ?? nowMs,
          untilMs: Math.max(this.snapshotFault?.untilMs ?? 0, nowMs + action.durationMs),
        };
        break;
      case 'adapterDown':
        this.adapterDownUntilMs = Math.max(this.adapterDownUntilMs, nowMs + action.durationMs);
        break;
      case 'adapterHang':
        this.adapterHangUntilMs = Math.max(this.adapterHangUntilMs, nowMs + action.durationMs);
        break;
      case 'queueStall':
        this.queueStallUntilMs = Math.max(this.queueStallUntilMs, nowMs + action.durationMs);
        this.queueStalledSinceMs ??= nowMs;
        gov.healthMonitor.setExecutionQueueStatus('STALLED');
        break;
      default:
        throw new Error(`oracle: ${action.kind} is not a fault`);
    }
    this.applyToInjector(faults);
  }

  /** Ends the standing faults whose time is up. */
  expire(nowMs: number, faults: FaultInjector, gov: GovernanceSystem): void {
    if (this.globalFault !== null && this.globalFault.untilMs <= nowMs) {
      this.globalFault = null;
      this.lastWriteTroubleMs = nowMs;
      this.applyToInjector(faults);
    }
    if (this.snapshotFault !== null && this.snapshotFault.untilMs <= nowMs) {
      this.snapshotFault = null;
      this.applyToInjector(faults);
    }
    if (this.queueStalledSinceMs !== null && this.queueStallUntilMs <= nowMs) {
      this.queueStalledSinceMs = null;
      gov.healthMonitor.setExecutionQueueStatus('IDLE');
    }
  }

  private applyToInjector(faults: FaultInjector): void {
    if (this.globalFault !== null) faults.setMode(this.globalFault.mode);
    else if (this.snapshotFault !== null)
      faults.setMode(this.snapshotFault.mode, { operations: ['snapshots.write'] });
    else faults.setMode(null);
  }

  /** The next instant the simulator must stop at: a fault's end or a detection deadline. */
  nextBoundaryMs(nowMs: number, mode: LifecycleState): number {
    let next = Math.min(
      this.globalFault?.untilMs ?? Number.POSITIVE_INFINITY,
      this.snapshotFault?.untilMs ?? Number.POSITIVE_INFINITY,
      this.queueStalledSinceMs === null ? Number.POSITIVE_INFINITY : this.queueStallUntilMs,
    );
    const deadline = this.deadline(nowMs, mode);
    if (deadline !== null && deadline.atMs + DETECTION_SLACK_MS > nowMs) {
      next = Math.min(next, deadline.atMs + DETECTION_SLACK_MS);
    }
    return next;
  }

  // ---------------------------------------------------------------------------------------
  // What governor did

  modeChanged(change: ModeChange, nowMs: number, gov: GovernanceSystem): void {
    if (change.from === 'CHECKING' && change.to !== 'AGGRESSIVE') this.fullVisit = false;
    if (change.to === 'SHUTDOWN') {
      if (!this.latched) {
        this.shutdownIncidents++;
        this.justifyShutdown(change.trigger, nowMs);
      }
      this.latched = true;
    } else if (change.to === 'AGGRESSIVE') {
      if (this.held) {
        this.violate(
          'no-silent-resume',
          'AGGRESSIVE while a failure is held (OBSERVE_ONLY for a failure, no operator resume since)',
        );
      }
      if (this.visitDoom !== null) {
        this.violate(
          'aggressive-only-after-passing-checks',
          `AGGRESSIVE although this visit had to fail (${this.visitDoom})`,
        );
      }
      const report = gov.getLastStartupReport();
      if (report?.passed !== true || report.lifecycleId !== change.lifecycleId) {
        this.violate('aggressive-only-after-passing-checks', 'no passing report of this lifecycle');
      }
      if (change.from === 'CHECKING' && this.fullVisit) {
        this.futureFindingsPossible = false;
        this.wallSetBackPastTolerance(nowMs);
      }
      this.fullVisit = false;
    } else if (change.to === 'OBSERVE_ONLY') {
      this.observed(change, nowMs);
    }
  }

  private observed(change: ModeChange, nowMs: number): void {
    const t = this.thresholds;
    if (change.cause !== null && HELD.has(change.cause)) this.held = true;
    // A failure held from an earlier lifecycle is the same incident (its alert is still open).
    if (change.causeHeld) return;
    if (change.cause === 'STARTUP_CHECKS_FAILED') this.startupIncidents++;
    if (change.cause === 'HEARTBEAT_LOST') {
      this.epoch.heartbeatTransitions++;
      if (!this.recentTrouble(nowMs, t.heartbeatLossMs + t.heartbeatIntervalMs)) {
        this.violate('no-false-trigger', 'HEARTBEAT_LOST with no stall or write failure behind it');
      }
    }
    if (change.cause === 'INTEGRITY_VIOLATION') {
      this.epoch.integrityTransitions++;
      if (this.drift === null && !this.wallSetBackPastTolerance(nowMs)) {
        this.violate(
          'no-false-trigger',
          'INTEGRITY_VIOLATION without drift or a wall clock set back past its tolerance',
        );
      }
    }
  }

  alertRaised(kind: AlertKind): void {
    if (kind === 'SHUTDOWN') this.shutdownAlerts++;
    else if (kind === 'STARTUP_FAILURE') this.startupAlerts++;
    else if (kind === 'HEARTBEAT_LOSS') this.epoch.heartbeatAlerts++;
    else this.epoch.integrityAlerts++;
  }

  private recentTrouble(nowMs: number, windowMs: number): boolean {
    return (
      this.globalFault !== null ||
      nowMs - this.lastWriteTroubleMs <= windowMs ||
      nowMs - this.lastLongStallEndMs <= windowMs
    );
  }

  private simErrorsInWindow(nowMs: number): number {
    const cutoffMs = nowMs - this.thresholds.errorWindowMs;
    let count = 0;
    for (const atMs of this.simErrorTimesMs) if (atMs > cutoffMs) count++;
    return count;
  }

  /** The age governor must judge market data to have (false-trigger checks use it). */
  private marketAgeMaxMs(nowMs: number): number {
    return nowMs - this.marketViewMs;
  }

  /** A shutdown must have a cause the simulator injected: no false trigger. */
  private justifyShutdown(trigger: ShutdownTrigger | null, nowMs: number): void {
    const t = this.thresholds;
    const unhealthy =
      this.marketAgeMaxMs(nowMs) > t.marketDataUnhealthyAfterMs ||
      this.queueStalledSinceMs !== null ||
      this.simErrorsInWindow(nowMs) > t.errorRatePerMinuteMax ||
      this.recentTrouble(nowMs, t.eventLogShutdownAfterMs + t.errorWindowMs + t.heartbeatLossMs);
    const justified: Record<ShutdownTrigger, boolean> = {
      OPERATOR_KILL: this.killRequested,
      CAPITAL_INCONSISTENT: this.drift !== null,
      MARKET_DATA_STALL: this.marketAgeMaxMs(nowMs) > t.marketDataShutdownAfterMs,
      // The truth (the last write the simulator saw succeed), older at most by forward steps.
      SNAPSHOT_WRITE_FAILURE:
        nowMs - Math.max(this.lastSnapshotOkMs, 0) + this.forwardJumpsSinceSnapshotMs >
        t.snapshotShutdownAfterMs,
      EVENT_LOG_WRITE_FAILURE: unhealthy,
      HEALTH_CHECK_FAILED: unhealthy,
      UNRECOVERABLE_EXCEPTION: false,
      // The simulator registers no venue: no switch to fire.
      VENUE_DEAD_MANS_SWITCH_FIRED: false,
      // The simulator injects no inconsistency: a broken invariant is always a finding.
      INVARIANT_VIOLATED: false,
    };
    if (trigger === null || !justified[trigger]) {
      this.violate('no-false-trigger', `SHUTDOWN (${trigger}) with no injected cause behind it`);
    }
  }

  /**
   * The first instant past an input's limit, counted from `viewMs`. An input stale on arrival
   * (judged from before this process started) may latch no sooner than `min(limit, startup
   * checks' timeout)` after the start: the engine's first report could not come sooner.
   */
  private latchAtMs(viewMs: number, limitMs: number): number {
    const dueMs = viewMs + limitMs + 1;
    if (viewMs >= this.processStartMs) return dueMs;
    const graceMs = Math.min(limitMs, this.thresholds.startupChecksTimeoutMs);
    return Math.max(dueMs, this.processStartMs + graceMs + 1);
  }

  /** The first instant by which governor must be in SHUTDOWN, and the rule behind it. */
  deadline(nowMs: number, mode: LifecycleState): Deadline | null {
    if (mode === 'SHUTDOWN') return null;
    const t = this.thresholds;
    const start = this.agesFromMs;
    let best: Deadline = {
      atMs: this.latchAtMs(this.marketViewMs, t.marketDataUnhealthyAfterMs),
      rule: 'market data older than marketDataUnhealthyAfterMs (HEALTH_CHECK_FAILED)',
    };
    const consider = (atMs: number, rule: string): void => {
      if (atMs < best.atMs) best = { atMs, rule };
    };
    consider(
      this.latchAtMs(this.snapshotViewMs, t.snapshotShutdownAfterMs),
      'no snapshot written for snapshotShutdownAfterMs',
    );
    if (this.globalFault !== null) {
      consider(
        Math.max(this.globalFault.sinceMs, this.processStartMs) + t.eventLogUnhealthyAfterMs + 1,
        `event log unwritable (${this.globalFault.mode}) for eventLogUnhealthyAfterMs`,
      );
    }
    if (this.drift !== null) {
      consider(
        Math.max(this.drift.sinceMs, start) + t.failSafeCheckIntervalMs,
        'capital drift, found by the periodic fail-safe check',
      );
    }
    if (this.queueStalledSinceMs !== null) {
      consider(Math.max(this.queueStalledSinceMs, start), 'execution queue STALLED');
    }
    if (this.simErrorsInWindow(nowMs) > t.errorRatePerMinuteMax) {
      consider(this.simErrorTimesMs[this.simErrorTimesMs.length - 1] ?? nowMs, 'error rate');
    }
    return best;
  }

  // ---------------------------------------------------------------------------------------
  // The invariants, after every step

  /** `timersRan` false: a stalled loop just resumed and no timer has run yet (gate checks only). */
  check(
    nowMs: number,
    gov: GovernanceSystem,
    gate: boolean,
    where: string,
    timersRan = true,
  ): void {
    const mode = gov.getState();
    const t = this.thresholds;
    if (gate && mode !== 'AGGRESSIVE') {
      this.violate('gate-open-only-in-aggressive', `gate open in ${mode} (${where})`);
    }
    // The lease holds through heartbeatLossMs after the last success (stale only when older).
    if (gate && nowMs > this.lastWritableLoopMs + t.heartbeatLossMs) {
      this.violate(
        'gate-open-only-with-fresh-lease',
        `gate open ${nowMs - this.lastWritableLoopMs} ms after the last instant a heartbeat could succeed (${where})`,
      );
    }
    if (this.latched && mode !== 'SHUTDOWN') {
      this.violate('shutdown-left-only-by-operator-restart', `${mode} after SHUTDOWN (${where})`);
    }
    if (mode === 'AGGRESSIVE') {
      const report = gov.getLastStartupReport();
      if (report?.passed !== true || report.lifecycleId !== gov.getLifecycleId()) {
        this.violate('aggressive-only-after-passing-checks', `no passing report (${where})`);
      }
    }
    const deadline = timersRan ? this.deadline(nowMs, mode) : null;
    if (deadline !== null && nowMs >= deadline.atMs + DETECTION_SLACK_MS) {
      this.violate(
        'trigger-detected-in-time',
        `${deadline.rule}: due at ${deadline.atMs} ms, still ${mode} at ${nowMs} ms (${where})`,
      );
    }
    this.checkAlerts(where);
  }

  private checkAlerts(where: string): void {
    const pairs: Array<[string, number, number]> = [
      ['SHUTDOWN', this.shutdownAlerts, this.shutdownIncidents],
      ['STARTUP_FAILURE', this.startupAlerts, this.startupIncidents],
    ];
    for (const [kind, alerts, incidents] of pairs) {
      if (alerts > incidents) {
        this.violate(
          'alerts-at-most-one-per-incident',
          `${alerts} ${kind} alerts for ${incidents} incidents (${where})`,
        );
      } else if (alerts < incidents) {
        this.violate(
          'alert-for-every-critical-incident',
          `${alerts} ${kind} alerts for ${incidents} incidents (${where})`,
        );
      }
    }
    const e = this.epoch;
    if (e.heartbeatAlerts > 1 || e.integrityAlerts > 1) {
      this.violate(
        'alerts-at-most-one-per-incident',
        `heartbeat ${e.heartbeatAlerts}, integrity ${e.integrityAlerts} alerts in one incident (${where})`,
      );
    }
    if (
      (e.heartbeatTransitions > 0 && e.heartbeatAlerts === 0) ||
      (e.integrityTransitions > 0 && e.integrityAlerts === 0)
    ) {
      this.violate(
        'alert-for-every-critical-incident',
        `heartbeat or integrity incident without an alert (${where})`,
      );
    }
  }
}

/** The recorded input ages as governor writes them (services/governor/inputs.ts), or null. */
function parseRecord(text: string | null): {
  at: string;
  marketDataAgeMs: number;
  snapshotWriteAgeMs: number;
} | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    const { at, marketDataAgeMs, snapshotWriteAgeMs } = value;
    if (typeof at !== 'string' || typeof marketDataAgeMs !== 'number') return null;
    if (typeof snapshotWriteAgeMs !== 'number') return null;
    return { at, marketDataAgeMs, snapshotWriteAgeMs };
  } catch {
    return null;
  }
}
