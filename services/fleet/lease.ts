/**
 * A host's lease from the fleet authority. A renewal is one round trip that writes the host's row
 * and reads its scopes' epochs; an answer with the baseline's epochs extends the lease to the
 * renewal's SEND time plus `leaseMs` (monotonic; lease ends only move forward). A killed scope, or
 * an epoch that rose while the host was away, grants nothing and fences the host. A kill notice
 * (kill-notice.ts) closes the gate at once until the renewal it wakes reads the record, which
 * decides. Contract: lease-protocol.ts; answers: lease-answer.ts; confirmations: lease-confirmations.ts.
 */ import type { TimerHandle } from '../clock.js';
import { GovernorError } from '../errors.js';
import { type KillNotice, killNotice } from './kill-notice.js';
import { epochsOf, establishRefusal, killedRow, unseenRise } from './lease-answer.js';
import { LeaseConfirmations } from './lease-confirmations.js';
import {
  type AuthorityConnection,
  boundedByDeadline,
  type FleetKill,
  type FleetLeaseOptions,
  type LeaseAnswer,
  type LeaseStatus,
  type LeaseView,
  type ScopeRow,
} from './lease-protocol.js';
import { NotifyQueueUsage } from './notify-queue-usage.js';
import { obeyedScopes } from './scopes.js';

export type {
  AuthorityConnection,
  AuthorityTransport,
  FleetKill,
  FleetLeaseOptions,
  LeaseAnswer,
  LeaseHolder,
  LeaseReport,
  LeaseStatus,
  LeaseView,
  ScopeRow,
  ScopeState,
} from './lease-protocol.js';

/** How long the startup check keeps trying round trips (each bounded) before it fails. */
const ESTABLISH_WINDOW_MS = 4_000;

export class FleetLease {
  private leaseEndMs = Number.NEGATIVE_INFINITY;
  private baseline: Map<string, number> | null = null;
  private readonly remembered: Map<string, number> | null;
  private fence: FleetKill | null = null;
  /** Kills fenced but not yet handed to the holder (its SHUTDOWN follows on the next timer turn). */
  private killsPending = 0;
  /** A kill announced by a notification, not yet read in the record: the gate is closed. */
  private notice: KillNotice | null = null;
  private leaseChanges = 0;
  private reportedKillEpoch = new Map<string, number>();
  private lastEpochs: Record<string, number> = {};
  private lastKilled: ScopeRow | null = null;
  private connection: AuthorityConnection | null = null;
  private running: Promise<void> | null = null;
  private wakeAgain = false;
  private stopped = true;
  private tickTimer: TimerHandle | undefined;
  private lossTimer: TimerHandle | undefined;
  private grantBaseMs = 0;
  private isLost = false;
  private readonly queue: NotifyQueueUsage;
  private granted = 0;
  private runningSinceMs = 0;
  private failed = 0;
  private readonly confirmations: LeaseConfirmations;
  private readonly obeyed: readonly string[];
  private readonly intervalMs: number;

  constructor(private readonly options: FleetLeaseOptions) {
    this.obeyed = obeyedScopes(options.scopes);
    const remembered = options.rememberedEpochs ?? null;
    this.remembered = remembered === null ? null : new Map(Object.entries(remembered));
    this.intervalMs = Math.max(1, Math.floor(options.leaseMs / 3));
    this.queue = new NotifyQueueUsage((usage) => options.holder.queueUsageHigh(usage));
    this.confirmations = new LeaseConfirmations({
      clock: options.clock,
      logger: options.logger,
      writeMs: this.intervalMs,
      connection: () => this.connection,
    });
  }

  /**
   * Monotonic ms until which the gate may be open under this lease: part of the gate's deadline
   * (-Infinity when fenced, or while a kill notice awaits the record).
   */
  get leaseEndsAtMs(): number {
    return this.fence === null && this.notice === null ? this.leaseEndMs : Number.NEGATIVE_INFINITY;
  }

  /** The kill a notification announced that the record has not been read for yet, or null. */
  pendingNotice(): { scope: string; epoch: number } | null {
    return this.notice === null ? null : { scope: this.notice.scope, epoch: this.notice.epoch };
  }

  /** True while the lease runs (what a venue's dead man's switch renewal asks). */
  held(): boolean {
    return this.fence === null && this.options.clock.monotonicNow() < this.leaseEndMs;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.grantBaseMs = this.options.clock.monotonicNow();
    this.scheduleLossCheck();
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    this.options.clock.clearTimeout(this.tickTimer);
    this.options.clock.clearTimeout(this.lossTimer);
    this.connection?.close();
    this.connection = null;
  }

  /**
   * The startup check: a round trip whose epochs become the baseline (clearing a fence). Throws
   * GOV_SCOPE_KILLED when a scope this host obeys is killed, GOV_AUTHORITY_UNREACHABLE when the
   * authority does not answer within the renewal bound.
   */
  async establish(): Promise<true> {
    this.start();
    while (this.running !== null) await this.running;
    let outcome: { answer: LeaseAnswer; sentAtMs: number } | null = null;
    const run = (async () => {
      // A connection that could not be made in time (a busy host at start) is tried again.
      const giveUpAtMs = this.options.clock.monotonicNow() + ESTABLISH_WINDOW_MS;
      for (;;) {
        try {
          outcome = await this.roundTrip();
          return;
        } catch (error) {
          if (this.options.clock.monotonicNow() >= giveUpAtMs) throw error;
        }
      }
    })();
    this.running = run.catch(() => {});
    this.runningSinceMs = this.options.clock.monotonicNow();
    try {
      await run;
    } finally {
      this.running = null;
      if (this.wakeAgain) {
        this.wakeAgain = false;
        this.wake();
      }
    }
    const { answer, sentAtMs } = outcome as unknown as { answer: LeaseAnswer; sentAtMs: number };
    if (this.notice !== null && sentAtMs >= this.notice.heardAtMs) this.notice = null;
    const epochs = epochsOf(answer, this.obeyed);
    const killed = killedRow(answer, this.obeyed);
    // A host obeying a kill (fenced) is restarted by its operator: what rose since is accepted,
    // unless this very start fenced it and has not obeyed it yet (establishRefusal).
    const pending = this.killsPending > 0 ? this.fence : null;
    const risen = killed === null && this.fence === null ? this.unseenRise(answer, epochs) : null;
    if (risen !== null) this.fenceWith(risen);
    const refusal = establishRefusal(answer, { pending, risen, killed });
    if (refusal !== null) throw refusal;
    this.baseline = new Map(Object.entries(epochs));
    this.fence = null;
    this.options.holder.epochsEstablished(epochs);
    this.grant(sentAtMs);
    return true;
  }

  /** Renews now (a NOTIFY arrived, or the interval passed); a renewal under way runs again after. */
  wake(): void {
    if (this.stopped) return;
    const now = this.options.clock.monotonicNow();
    if (this.running !== null && now - this.runningSinceMs > 2 * this.options.leaseMs) {
      // A renewal that never settled (every step is bounded; this is the bound of last resort):
      // abandon it and its connection, so the lease keeps trying.
      this.options.logger.error('fleet lease renewal stuck: abandoned, reconnecting');
      if (this.connection !== null) this.dropConnection(this.connection);
      this.running = null;
    }
    if (this.running !== null) {
      this.wakeAgain = true;
      return;
    }
    this.options.clock.clearTimeout(this.tickTimer);
    // The tick of last resort: a renewal that never settles is abandoned by the next wake.
    this.tickTimer = this.options.clock.setTimeout(() => this.wake(), 2 * this.options.leaseMs + 1);
    this.runningSinceMs = now;
    const running: Promise<void> = this.renewOnce().finally(() => {
      if (this.running !== running) return;
      this.running = null;
      if (this.stopped) return;
      if (this.wakeAgain) {
        this.wakeAgain = false;
        this.wake();
      }
    });
    this.running = running;
  }

  /** Records that this host obeyed a kill (its state now); written at once and retried. */
  confirm(kill: FleetKill, state: string): void {
    this.confirmations.add(kill.scope, kill.epoch, state);
    void this.confirmations.flush();
  }

  view(): LeaseView {
    const now = this.options.clock.monotonicNow();
    const status: LeaseStatus =
      this.fence !== null
        ? 'fenced'
        : this.isLost
          ? 'lost'
          : this.leaseEndMs === Number.NEGATIVE_INFINITY
            ? 'none'
            : now < this.leaseEndMs
              ? 'held'
              : 'expired';
    return {
      status,
      leaseEndsAtMs: this.leaseEndMs,
      leaseRemainingMs: Math.max(0, this.leaseEndMs - now),
      lostForMs: this.isLost ? now - this.grantBaseMs : null,
      epochs: { ...this.lastEpochs },
      fencedBy: this.fence,
      notificationQueueUsage: this.queue.usage,
      renewalsGranted: this.granted,
      renewalsFailed: this.failed,
    };
  }

  // ---------------------------------------------------------------------------------------

  private async renewOnce(): Promise<void> {
    const startedMs = this.options.clock.monotonicNow();
    try {
      const { answer, sentAtMs } = await this.roundTrip();
      this.apply(answer, sentAtMs);
      await this.confirmations.flush();
    } catch (error) {
      this.failed += 1;
      this.options.logger.warn({ err: error }, 'fleet lease renewal failed');
    }
    if (this.stopped) return;
    const elapsed = this.options.clock.monotonicNow() - startedMs;
    this.options.clock.clearTimeout(this.tickTimer);
    this.tickTimer = this.options.clock.setTimeout(
      () => this.wake(),
      Math.max(0, this.intervalMs - elapsed),
    );
  }

  /** One bounded round trip; the send time is taken before anything is sent (or connected). */
  private async roundTrip(): Promise<{ answer: LeaseAnswer; sentAtMs: number }> {
    const sentAtMs = this.options.clock.monotonicNow();
    // Connecting may take longer than a renewal (TLS, authentication), up to a lease: the lease
    // still counts from before it, so a slow connect only shortens what the renewal grants.
    const connection = await boundedByDeadline(
      this.options.clock,
      this.ensureConnection(),
      sentAtMs + this.options.leaseMs,
      'connect',
    );
    const deadlineMs = this.options.clock.monotonicNow() + this.intervalMs;
    const holder = this.options.holder.report();
    const restartCheck =
      this.lastKilled !== null
        ? `refused: fleet scope ${this.lastKilled.scope} is killed (epoch ${this.lastKilled.epoch})`
        : holder.restartCheck;
    const answer = await boundedByDeadline(
      this.options.clock,
      connection.renew({ ...holder, restartCheck, epochs: this.lastEpochs }),
      deadlineMs,
      'renew',
    ).catch((error: unknown) => {
      // A renewal that did not answer in time leaves its connection in doubt: drop it.
      this.dropConnection(connection);
      throw error;
    });
    return { answer, sentAtMs };
  }

  /**
   * A renewal sent after a kill notice was heard settles it: the answer is the record. Whatever
   * the answer does to the lease, the holder is told of the change once.
   */
  private apply(answer: LeaseAnswer, sentAtMs: number): void {
    const settles = this.notice !== null && sentAtMs >= this.notice.heardAtMs;
    if (settles) this.notice = null;
    const changesBefore = this.leaseChanges;
    this.applyAnswer(answer, sentAtMs);
    if (settles && this.leaseChanges === changesBefore) this.leaseChanged();
  }

  private applyAnswer(answer: LeaseAnswer, sentAtMs: number): void {
    this.queue.track(answer.notificationQueueUsage);
    const epochs = epochsOf(answer, this.obeyed);
    this.lastEpochs = epochs;
    const killed = killedRow(answer, this.obeyed);
    this.lastKilled = killed;
    if (killed !== null) {
      // Every killed scope is obeyed (and confirmed), the widest first.
      for (const scope of this.obeyed) {
        const row = answer.scopes.find((s) => s.scope === scope);
        if (row?.state !== 'killed') continue;
        this.fenceWith({
          scope: row.scope,
          epoch: row.epoch,
          changedBy: row.changedBy,
          reason: row.reason,
        });
      }
      return;
    }
    // Fenced already (a kill obeyed): a release seen now grants nothing until the checks run;
    // the epochs it raised were seen here, so the checks accept them.
    if (this.fence !== null) {
      const seen: Record<string, number> = {};
      for (const scope of this.obeyed) {
        const now = epochs[scope] ?? 0;
        if (now > (this.reportedKillEpoch.get(scope) ?? 0)) {
          this.reportedKillEpoch.set(scope, now);
          seen[scope] = now;
        }
      }
      if (Object.keys(seen).length > 0) this.options.holder.epochsSeen(seen);
      return;
    }
    if (!answer.hostRowWritten) return;
    const risen = this.unseenRise(answer, epochs);
    if (risen !== null) {
      this.fenceWith(risen);
      return;
    }
    if (this.baseline !== null) this.grant(sentAtMs);
  }

  /** A rise past the baseline (else the remembered epochs) this host has not obeyed yet. */
  private unseenRise(answer: LeaseAnswer, epochs: Record<string, number>): FleetKill | null {
    const known = this.baseline ?? this.remembered;
    return unseenRise(answer, epochs, this.obeyed, known, this.reportedKillEpoch);
  }

  private grant(sentAtMs: number): void {
    this.granted += 1;
    const end = sentAtMs + this.options.leaseMs;
    if (end > this.leaseEndMs) this.leaseEndMs = end;
    if (sentAtMs > this.grantBaseMs) this.grantBaseMs = sentAtMs;
    this.scheduleLossCheck();
    if (this.isLost) {
      this.isLost = false;
      this.options.holder.regained();
    }
    this.leaseChanged();
  }

  private leaseChanged(): void {
    this.leaseChanges += 1;
    this.options.holder.leaseChanged();
  }

  /**
   * A notification: wakes a renewal, and when it announces a kill of a scope this host obeys at
   * an epoch above the one last read, closes the gate at once until that renewal's answer.
   */
  private heard(payload: string | undefined): void {
    const notice = killNotice(payload, this.obeyed);
    if (
      notice !== null &&
      this.fence === null &&
      notice.epoch > (this.lastEpochs[notice.scope] ?? 0) &&
      notice.epoch > (this.notice?.epoch ?? 0)
    ) {
      const first = this.notice === null;
      this.notice = { ...notice, heardAtMs: this.options.clock.monotonicNow() };
      if (first) this.leaseChanged();
    }
    this.wake();
  }

  /**
   * Fences the lease: the gate closes at once (its deadline is told now, an O(1) step); the
   * kill itself (the machine's SHUTDOWN, heavier: fsync, alert) follows on the next timer turn,
   * so the other work already received (another connection's kill) is not held behind it.
   */
  private fenceWith(kill: FleetKill): void {
    if (this.fence === null) {
      this.fence = kill;
      this.leaseChanged();
    }
    if ((this.reportedKillEpoch.get(kill.scope) ?? 0) >= kill.epoch) return;
    this.reportedKillEpoch.set(kill.scope, kill.epoch);
    this.killsPending += 1;
    this.options.clock.setTimeout(() => {
      this.killsPending -= 1;
      this.options.holder.killed(kill);
    }, 0);
  }

  private scheduleLossCheck(): void {
    if (this.stopped) return;
    this.options.clock.clearTimeout(this.lossTimer);
    const dueMs = this.grantBaseMs + this.options.authorityLossMs;
    this.lossTimer = this.options.clock.setTimeout(
      () => {
        if (this.stopped || this.isLost) return;
        const now = this.options.clock.monotonicNow();
        if (now < this.grantBaseMs + this.options.authorityLossMs) {
          this.scheduleLossCheck();
          return;
        }
        this.isLost = true;
        this.options.holder.lost(now - this.grantBaseMs);
      },
      Math.max(0, dueMs - this.options.clock.monotonicNow()),
    );
  }

  private async ensureConnection(): Promise<AuthorityConnection> {
    if (this.connection !== null) return this.connection;
    let opened: AuthorityConnection | null = null;
    const connection = await this.options.transport.connect({
      onNotify: (payload) => this.heard(payload),
      onClosed: (error) => {
        this.options.logger.warn({ err: error }, 'fleet authority connection closed');
        if (opened !== null) this.dropConnection(opened);
        this.wake();
      },
    });
    opened = connection;
    if (this.stopped) {
      connection.close();
      throw new GovernorError('GOV_CLOSED', 'the fleet lease was stopped');
    }
    this.connection = connection;
    return connection;
  }

  private dropConnection(connection: AuthorityConnection): void {
    if (this.connection === connection) this.connection = null;
    connection.close();
  }
}
