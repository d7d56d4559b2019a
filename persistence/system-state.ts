/**
 * The single `system_state` row: the desired mode, the lifecycle the governor last recorded, the
 * shutdown latch (set by a fail-safe, cleared only by a named operator; the clearance is kept), the
 * safe-mode hold (OBSERVE_ONLY entered for a failure) and the input ages persisted with each
 * heartbeat. A fresh database holds OBSERVE_ONLY and no latch: the conservative default. Only the
 * mode journal (persistence/mode-journal.ts) writes it; nothing outside the package can reach it.
 */
import type BetterSqlite3 from 'better-sqlite3';
import {
  HELD_CAUSES,
  type HeldCause,
  LIFECYCLE_STATES,
  type LifecycleState,
  MODES,
  type Mode,
  type SafeModeHold,
  SHUTDOWN_TRIGGERS,
  type ShutdownLatch,
  type ShutdownTrigger,
} from '../machines/types.js';
import { GovernorError } from '../services/errors.js';
import type { Connection } from './connection.js';
import {
  checkIdentifier,
  checkMember,
  checkOperator,
  checkReason,
  checkText,
  checkTimestamp,
  LIMITS,
} from './validation.js';

export interface LatchClearance {
  readonly operator: string;
  readonly reason: string;
  /** ISO-8601 wall time. */
  readonly at: string;
}

export interface SystemStateRecord {
  readonly desiredMode: Mode;
  readonly lifecycleState: LifecycleState | null;
  readonly lifecycleId: string | null;
  /** The latch in force, or null (never set, or cleared). */
  readonly latch: ShutdownLatch | null;
  /** Who cleared the last latch, why and when; null if no latch was ever cleared. */
  readonly lastClearance: LatchClearance | null;
  /** OBSERVE_ONLY entered for a failure, in force until an operator resumes; or null. */
  readonly hold: SafeModeHold | null;
  /** The input ages persisted with the last heartbeat (JSON text as stored), or null. */
  readonly inputsText: string | null;
  readonly updatedAt: string;
}

interface SystemStateRow {
  desired_mode: Mode;
  lifecycle_state: LifecycleState | null;
  lifecycle_id: string | null;
  latch_trigger: ShutdownTrigger | null;
  latch_reason: string | null;
  latch_at: string | null;
  cleared_by: string | null;
  cleared_reason: string | null;
  cleared_at: string | null;
  hold_cause: HeldCause | null;
  hold_reason: string | null;
  hold_at: string | null;
  inputs: string | null;
  updated_at: string;
}

function toRecord(row: SystemStateRow): SystemStateRecord {
  const latched = row.latch_trigger !== null && row.cleared_at === null;
  return {
    desiredMode: row.desired_mode,
    lifecycleState: row.lifecycle_state,
    lifecycleId: row.lifecycle_id,
    latch: latched
      ? {
          trigger: row.latch_trigger as ShutdownTrigger,
          reason: row.latch_reason ?? '',
          at: row.latch_at ?? '',
        }
      : null,
    lastClearance:
      row.cleared_at === null
        ? null
        : { operator: row.cleared_by ?? '', reason: row.cleared_reason ?? '', at: row.cleared_at },
    hold:
      row.hold_cause === null
        ? null
        : { cause: row.hold_cause, reason: row.hold_reason ?? '', at: row.hold_at ?? '' },
    inputsText: row.inputs,
    updatedAt: row.updated_at,
  };
}

/** The `system_state` table (written only through the mode journal). */
export class SystemState {
  private readonly connection: Connection;
  private readonly selectRow: BetterSqlite3.Statement<[], SystemStateRow>;
  private readonly db: BetterSqlite3.Database;

  constructor(connection: Connection) {
    this.connection = connection;
    this.db = connection.db;
    this.selectRow = this.db.prepare('SELECT * FROM system_state WHERE id = 1');
  }

  get(): SystemStateRecord {
    return toRecord(this.connection.read('systemState.get', () => this.requireRow()));
  }

  setDesiredMode(mode: Mode): SystemStateRecord {
    const desiredMode = checkMember('mode', mode, MODES, 'GOV_INVALID_MODE');
    return this.update('systemState.setDesiredMode', 'desired_mode = ?', [desiredMode]);
  }

  setLifecycle(state: LifecycleState, lifecycleId: string): SystemStateRecord {
    const lifecycleState = checkMember('state', state, LIFECYCLE_STATES, 'GOV_INVALID_ARGUMENT');
    checkIdentifier('lifecycleId', lifecycleId);
    return this.update('systemState.setLifecycle', 'lifecycle_state = ?, lifecycle_id = ?', [
      lifecycleState,
      lifecycleId,
    ]);
  }

  /** Sets (or replaces) the latch and forgets any earlier clearance. */
  setLatch(latch: ShutdownLatch): SystemStateRecord {
    if (typeof latch !== 'object' || latch === null) {
      throw new GovernorError('GOV_INVALID_ARGUMENT', 'Expected a latch object', {
        field: 'latch',
      });
    }
    const trigger = checkMember(
      'trigger',
      latch.trigger,
      SHUTDOWN_TRIGGERS,
      'GOV_INVALID_ARGUMENT',
    );
    const reason = checkText('reason', latch.reason, LIMITS.reasonBytesMax);
    const at = checkTimestamp('at', latch.at);
    return this.update(
      'systemState.setLatch',
      'latch_trigger = ?, latch_reason = ?, latch_at = ?, cleared_by = NULL, cleared_reason = NULL, cleared_at = NULL',
      [trigger, reason, at],
    );
  }

  /**
   * Clears the latch in force, recording the operator, reason and time (the latch's own columns
   * are kept). Returns false and writes nothing if no latch is in force.
   */
  clearLatch(clearance: LatchClearance): boolean {
    if (typeof clearance !== 'object' || clearance === null) {
      throw new GovernorError('GOV_INVALID_ARGUMENT', 'Expected a clearance object', {
        field: 'clearance',
      });
    }
    const operator = checkOperator(clearance.operator);
    const reason = checkReason(clearance.reason);
    const at = checkTimestamp('at', clearance.at);
    return this.connection.write('systemState.clearLatch', () => {
      if (toRecord(this.requireRow()).latch === null) return false;
      this.db
        .prepare(
          'UPDATE system_state SET cleared_by = ?, cleared_reason = ?, cleared_at = ?, updated_at = ? WHERE id = 1',
        )
        .run(operator, reason, at, this.connection.nowIso());
      return true;
    });
  }

  /** Holds a failure's OBSERVE_ONLY (the first unresolved one stays: an existing hold is kept). */
  setHold(hold: SafeModeHold): SystemStateRecord {
    if (typeof hold !== 'object' || hold === null) {
      throw new GovernorError('GOV_INVALID_ARGUMENT', 'Expected a hold object', { field: 'hold' });
    }
    const cause = checkMember('cause', hold.cause, HELD_CAUSES, 'GOV_INVALID_ARGUMENT');
    const reason = checkText('reason', hold.reason, LIMITS.reasonBytesMax);
    const at = checkTimestamp('at', hold.at);
    return this.connection.write('systemState.setHold', () => {
      if (this.requireRow().hold_cause !== null) return toRecord(this.requireRow());
      return this.update('systemState.setHold', 'hold_cause = ?, hold_reason = ?, hold_at = ?', [
        cause,
        reason,
        at,
      ]);
    });
  }

  /** Clears the hold (an operator's resume or restart); harmless when none is held. */
  clearHold(): SystemStateRecord {
    return this.update(
      'systemState.clearHold',
      'hold_cause = NULL, hold_reason = NULL, hold_at = NULL',
      [],
    );
  }

  /** Stores the input ages (JSON text, at most 64 KiB). */
  setInputs(inputsText: string): SystemStateRecord {
    const text = checkText('inputs', inputsText, LIMITS.metadataBytesMax);
    return this.update('systemState.setInputs', 'inputs = ?', [text]);
  }

  private update(
    operation: string,
    assignments: string,
    values: readonly string[],
  ): SystemStateRecord {
    return this.connection.write(operation, () => {
      this.requireRow();
      this.db
        .prepare(`UPDATE system_state SET ${assignments}, updated_at = ? WHERE id = 1`)
        .run(...values, this.connection.nowIso());
      return toRecord(this.requireRow());
    });
  }

  private requireRow(): SystemStateRow {
    const row = this.selectRow.get();
    if (row === undefined) {
      throw new GovernorError(
        'GOV_CORRUPT_RECORD',
        'system_state has no row (it was deleted outside governor)',
        {
          table: 'system_state',
        },
      );
    }
    return row;
  }
}
