/**
 * The mode journal: governor's authority record in SQLite, and the only writer of it. It keeps
 * the latch, the desired mode, a failure's safe-mode hold, the input ages and the owner, and
 * appends, in the same transaction as each change, the hash-chained events that justify it, so
 * the latch can be derived again from the event log and cross-checked (a latch cleared without
 * an operator restart on record is still in force). One interface, SQLite today: a distributed
 * implementation would keep the same calls.
 *
 * Its parts: logged-latch.ts (the latch the event log justifies, and the discrepancy with
 * `system_state`) and authority-writes.ts (what an operator action may change in the record).
 */
import type { LifecycleState, Mode, SafeModeHold, ShutdownLatch } from '../machines/types.js';
import { clipBytes } from '../services/display-text.js';
import { type AuthorityWrites, authorityWrites } from './authority-writes.js';
import {
  type AuthorityEventRow,
  discrepancyOf,
  lastLatchEvent,
  latchOfEvent,
  parseObject,
} from './logged-latch.js';
import type { OwnerInfo } from './owner-lock.js';
import type { Store } from './store.js';
import { LIMITS } from './validation.js';

export type { AuthorityWrites } from './authority-writes.js';

/** The authority record as read at start (or by a reader). */
export interface AuthorityRecord {
  readonly desiredMode: Mode;
  readonly lifecycleState: LifecycleState | null;
  readonly lifecycleId: string | null;
  /** The latch `system_state` holds. */
  readonly latch: ShutdownLatch | null;
  /** The latch the event log justifies: its last SYSTEM_SHUTDOWN not followed by a restart. */
  readonly loggedLatch: ShutdownLatch | null;
  /** Where `system_state` and the event log disagree, in words; null when they agree. */
  readonly discrepancy: string | null;
  readonly hold: SafeModeHold | null;
  /** The input ages persisted with the last heartbeat, as stored (JSON text). */
  readonly inputsText: string | null;
  readonly owner: OwnerInfo | null;
}

/** The thresholds an owner ran with, as it recorded them when it started. */
export interface OwnerThresholds {
  readonly pid: number;
  readonly host: string;
  /** ISO-8601 wall time at which the owner recorded them. */
  readonly recordedAt: string;
  /** Threshold name → ms, as recorded (the governor checks them before use). */
  readonly thresholds: Readonly<Record<string, number>>;
}

/** The recorded thresholds parsed from their JSON text; null when absent or malformed. */
export function parseOwnerThresholds(text: string | null): OwnerThresholds | null {
  if (text === null) return null;
  const value = parseObject(text);
  const { pid, host, recordedAt, thresholds } = value;
  if (!Number.isSafeInteger(pid) || typeof host !== 'string' || typeof recordedAt !== 'string') {
    return null;
  }
  if (typeof thresholds !== 'object' || thresholds === null || Array.isArray(thresholds)) {
    return null;
  }
  const entries = Object.entries(thresholds as Record<string, unknown>);
  const numbers: Record<string, number> = {};
  for (const [name, ms] of entries) {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) return null;
    numbers[name] = ms;
  }
  return { pid: pid as number, host, recordedAt, thresholds: numbers };
}

/** An operator action as the audit records it. */
export interface AuditedAction {
  readonly operator: string;
  readonly reason: string;
  /** `SHUTDOWN`, `OBSERVE`, `RESUME`, `RESTART`. */
  readonly action: string;
  readonly state: LifecycleState;
  readonly lifecycleId: string;
}

export interface ModeChangeRecord {
  readonly from: LifecycleState;
  readonly to: Exclude<LifecycleState, 'SHUTDOWN'>;
  readonly lifecycleId: string;
  readonly visit: number;
  readonly cause: string | null;
  readonly causeReason: string | null;
  /** A failure's OBSERVE_ONLY: held until an operator resumes. */
  readonly hold: SafeModeHold | null;
}

export interface ShutdownRecord {
  readonly from: LifecycleState;
  readonly latch: ShutdownLatch;
  readonly lifecycleId: string;
  /** What the spec calls the final state: health, ages, the latch (FINAL_STATE_PERSISTED). */
  readonly finalState: Readonly<Record<string, unknown>>;
  /** A start into a latch already recorded: no new SYSTEM_SHUTDOWN, no new final state. */
  readonly latchedRestart: boolean;
}

interface OwnerRow {
  pid: number;
  host: string;
  since: string;
  lock_path: string;
  lock_inode: number;
  process_start: string | null;
  released_at: string | null;
}

export class ModeJournal {
  private readonly writes: AuthorityWrites;

  constructor(private readonly store: Store) {
    this.writes = authorityWrites(store);
  }

  /** Reads the whole authority record in one snapshot. Throws GOV_STORAGE_FAILURE when unreadable. */
  read(): AuthorityRecord {
    return this.store.readSnapshot(() => {
      const state = this.store.systemState.get();
      const loggedLatch = this.latchFromEventLog();
      return {
        desiredMode: state.desiredMode,
        lifecycleState: state.lifecycleState,
        lifecycleId: state.lifecycleId,
        latch: state.latch,
        loggedLatch,
        discrepancy: discrepancyOf(state.latch, loggedLatch),
        hold: state.hold,
        inputsText: state.inputsText,
        owner: this.readOwner(),
      };
    });
  }

  /** The latch `system_state` holds (a cheap read for the owner's watch). */
  readLatch(): ShutdownLatch | null {
    return this.store.systemState.get().latch;
  }

  /** A fresh database: the configured mode becomes the desired mode (once: STARTING recorded). */
  initialiseDesiredMode(mode: Mode, lifecycleId: string): void {
    this.store.transaction(() => {
      this.store.systemState.setDesiredMode(mode);
      this.store.systemState.setLifecycle('STARTING', lifecycleId);
    });
  }

  /** The latch the event log justifies: its last SYSTEM_SHUTDOWN not followed by a restart. */
  latchFromEventLog(): ShutdownLatch | null {
    const row = this.latchEvent();
    return row === null ? null : latchOfEvent(row);
  }

  /**
   * The seq of the SYSTEM_SHUTDOWN event that justifies the logged latch, or null when the log
   * justifies none. `latchFromEventLog` reads the log from this event on, and only from it: a
   * prune must stay before it (with no latch in force, the last restart and everything before it
   * may go: the log then justifies no latch either way).
   */
  latchEventSeq(): number | null {
    return this.latchEvent()?.seq ?? null;
  }

  /** The last SYSTEM_SHUTDOWN not followed by an operator RESTART, or null. */
  private latchEvent(): AuthorityEventRow | null {
    return lastLatchEvent(this.store);
  }

  /** A mode change other than SHUTDOWN: its event and the lifecycle (and a hold) in one transaction. */
  recordModeChange(change: ModeChangeRecord): void {
    const reason = clipBytes(
      `${change.from} -> ${change.to}${change.causeReason && change.to === 'OBSERVE_ONLY' ? `: ${change.causeReason}` : ''}`,
      LIMITS.reasonBytesMax,
    );
    this.store.transaction(() => {
      this.store.events.append({
        eventType: 'SYSTEM_MODE_CHANGE',
        reason,
        metadata: {
          from: change.from,
          to: change.to,
          cause: change.to === 'OBSERVE_ONLY' ? change.cause : null,
          causeReason: change.to === 'OBSERVE_ONLY' ? change.causeReason : null,
          lifecycleId: change.lifecycleId,
          visit: change.visit,
          ...(change.hold === null ? {} : { hold: change.hold }),
        },
      });
      this.store.systemState.setLifecycle(change.to, change.lifecycleId);
      if (change.hold !== null) this.store.systemState.setHold(change.hold);
    });
  }

  /**
   * The spec's shutdown persistence in one transaction: the shutdown event, the mode change, the
   * lifecycle and the latch, and the final state. The latch is always justified by a
   * SYSTEM_SHUTDOWN in the log (a latch recovered from the fallback file gets its event now).
   * `alongside`, when given, runs last inside the same transaction, so that what it writes (the
   * incident's alert) commits with the latch: one commit, one fsync. It must not throw (what it
   * throws rolls the latch back). Throws when the database cannot be written (the caller then
   * uses the fallback file).
   */
  recordShutdown(record: ShutdownRecord, alongside?: () => void): void {
    const { latch, from } = record;
    this.store.transaction(() => {
      const events = this.store.events;
      const logged = this.latchFromEventLog();
      if (!record.latchedRestart || logged === null) {
        events.append({
          eventType: 'SYSTEM_SHUTDOWN',
          reason: latch.reason,
          metadata: {
            trigger: latch.trigger,
            at: latch.at,
            from,
            ...(record.latchedRestart ? { recorded: 'at a start into an unlogged latch' } : {}),
          },
        });
      }
      events.append({
        eventType: 'SYSTEM_MODE_CHANGE',
        reason: clipBytes(`${from} -> SHUTDOWN: ${latch.reason}`, LIMITS.reasonBytesMax),
        metadata: {
          from,
          to: 'SHUTDOWN',
          mode: 'OBSERVE_ONLY',
          trigger: latch.trigger,
          lifecycleId: record.lifecycleId,
        },
      });
      this.store.systemState.setLifecycle('SHUTDOWN', record.lifecycleId);
      if (this.store.systemState.get().latch === null) this.store.systemState.setLatch(latch);
      if (!record.latchedRestart) {
        events.append({
          eventType: 'FINAL_STATE_PERSISTED',
          reason: 'final state persisted',
          metadata: record.finalState,
        });
      }
      alongside?.();
    });
  }

  /**
   * An operator action: its audit row and OPERATOR_ACTION event, and `apply` (the change it makes
   * to the record), in one transaction.
   */
  recordOperatorAction(action: AuditedAction, apply: (writes: AuthorityWrites) => void): void {
    this.store.transaction(() => {
      this.store.operatorActions.record({
        operator: action.operator,
        action: action.action,
        reason: action.reason,
      });
      this.store.events.append({
        eventType: 'OPERATOR_ACTION',
        reason: action.reason,
        metadata: {
          operator: action.operator,
          action: action.action,
          state: action.state,
          lifecycleId: action.lifecycleId,
        },
      });
      apply(this.writes);
    });
  }

  /** The heartbeat event and the input ages, in one transaction. */
  recordHeartbeat(metadata: Record<string, unknown>, inputsText: string): void {
    this.store.transaction(() => {
      this.store.events.append({
        eventType: 'SYSTEM_MODE_CHANGE',
        reason: 'Heartbeat - system alive',
        metadata,
      });
      this.store.systemState.setInputs(inputsText);
    });
  }

  /** Stores the input ages alone (at close). */
  recordInputs(inputsText: string): void {
    this.store.systemState.setInputs(inputsText);
  }

  /**
   * Records this process as the owner, in one write transaction that first checks the owner on
   * record: when it names a different lock file that is still held (the database reached through
   * another name), or a lock file replaced under a live owner, it refuses (returns that owner).
   */
  claimOwner(
    info: OwnerInfo,
    stillOwned: (recorded: OwnerInfo) => boolean,
  ): { claimed: true } | { claimed: false; owner: OwnerInfo } {
    return this.store.transaction(() => {
      const recorded = this.readOwner();
      if (recorded !== null && stillOwned(recorded)) return { claimed: false, owner: recorded };
      this.store.execute(
        'journal.claimOwner',
        `INSERT INTO owner (id, pid, host, since, lock_path, lock_inode, process_start, released_at)
         VALUES (1, ?, ?, ?, ?, ?, ?, NULL)
         ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, since = excluded.since,
           lock_path = excluded.lock_path, lock_inode = excluded.lock_inode,
           process_start = excluded.process_start, released_at = NULL`,
        info.pid,
        info.host,
        info.since,
        info.lockPath,
        info.lockInode,
        info.processStart,
      );
      return { claimed: true };
    });
  }

  /** Records the thresholds this owner runs with (as it starts), replacing the last owner's. */
  recordOwnerThresholds(record: OwnerThresholds): void {
    this.store.execute(
      'journal.recordOwnerThresholds',
      'UPDATE system_state SET owner_thresholds = ? WHERE id = 1',
      JSON.stringify(record),
    );
  }

  /** The thresholds the last owner recorded; `none` when none ever did, `unusable` when malformed. */
  readOwnerThresholds(): OwnerThresholds | 'none' | 'unusable' {
    const row = this.store.query<{ owner_thresholds: string | null }>(
      'journal.readOwnerThresholds',
      'SELECT owner_thresholds FROM system_state WHERE id = 1',
    )[0];
    const text = row?.owner_thresholds ?? null;
    if (text === null) return 'none';
    return parseOwnerThresholds(text) ?? 'unusable';
  }

  /** Marks the owner row released (a clean close); a crash leaves it, and the lock tells. */
  releaseOwner(pid: number, atIso: string): void {
    this.store.execute(
      'journal.releaseOwner',
      'UPDATE owner SET released_at = ? WHERE id = 1 AND pid = ?',
      atIso,
      pid,
    );
  }

  readOwner(): OwnerInfo | null {
    const row = this.store.query<OwnerRow>(
      'journal.readOwner',
      'SELECT pid, host, since, lock_path, lock_inode, process_start, released_at FROM owner WHERE id = 1',
    )[0];
    if (row === undefined || row.released_at !== null) return null;
    return {
      pid: row.pid,
      host: row.host,
      since: row.since,
      lockPath: row.lock_path,
      lockInode: row.lock_inode,
      processStart: row.process_start,
    };
  }
}
