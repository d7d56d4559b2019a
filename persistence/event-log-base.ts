/**
 * The chain base of a pruned event log: the seq and hash the remaining log starts after
 * (`event_log_base`, one row), and the prune that writes it. A prune deletes the events through
 * a seq, records the base and appends an OPERATOR_ACTION PRUNE event naming that seq and hash,
 * all in one transaction, so the base is attested by the chain itself. The verifiers
 * (persistence/integrity/) start the walk at the base and require the attestation; the
 * encoding is public: docs/integrity.md, "A pruned log".
 */
import { GovernorError } from '../services/errors.js';
import type { AppendedEvent } from './event-log.js';
import type { Store } from './store.js';
import { checkOperator, checkReason, checkText, LIMITS } from './validation.js';

/** The `action` of the OPERATOR_ACTION event that attests a chain base. */
export const PRUNE_ACTION = 'PRUNE';

export interface ChainBase {
  /** The last pruned seq: the log holds seq + 1 onwards. */
  readonly seq: number;
  /** The hash of event `seq`: the `prev_hash` of event seq + 1. */
  readonly hash: string;
  readonly prunedAt: string;
  readonly operator: string;
  readonly reason: string;
  /** The file name of the archive written before the prune. */
  readonly archive: string;
}

export interface PruneInput {
  /** Delete the events with seq ≤ this; it must lie after the current base and before the head. */
  readonly throughSeq: number;
  readonly operator: string;
  readonly reason: string;
  /** The archive's file name (recorded in the base row and the attesting event). */
  readonly archive: string;
}

export interface PruneRecord {
  readonly base: ChainBase;
  /** Events deleted. */
  readonly prunedEvents: number;
  /** The OPERATOR_ACTION PRUNE event that attests the base. */
  readonly attestation: AppendedEvent;
}

interface BaseRow {
  through_seq: number;
  through_hash: string;
  pruned_at: string;
  operator: string;
  reason: string;
  archive: string;
}

const SELECT_BASE =
  'SELECT through_seq, through_hash, pruned_at, operator, reason, archive FROM event_log_base WHERE id = 1';

/** The chain base, or null for a log that was never pruned. */
export function readChainBase(store: Store): ChainBase | null {
  const row = store.query<BaseRow>('eventLogBase.get', SELECT_BASE)[0];
  return row === undefined
    ? null
    : {
        seq: row.through_seq,
        hash: row.through_hash,
        prunedAt: row.pruned_at,
        operator: row.operator,
        reason: row.reason,
        archive: row.archive,
      };
}

function refused(message: string, details: Record<string, unknown>): GovernorError {
  return new GovernorError('GOV_INVALID_OPERATOR_ACTION', `prune: ${message}`, details);
}

/**
 * Prunes the event log through `input.throughSeq` in one write transaction: appends the
 * attesting OPERATOR_ACTION PRUNE event (linked to the head as every append is), records the
 * audit row, deletes the events seq ≤ throughSeq and writes the base row. Refuses
 * (GOV_INVALID_OPERATOR_ACTION, nothing written) a seq at or before the current base, at or
 * after the head, or missing. The caller holds the database as its owner and has archived it.
 */
export function pruneEventLog(store: Store, input: PruneInput): PruneRecord {
  const operator = checkOperator(input.operator);
  const reason = checkReason(input.reason);
  const archive = checkText('archive', input.archive, LIMITS.shortTextBytesMax);
  const throughSeq = input.throughSeq;
  if (!Number.isSafeInteger(throughSeq) || throughSeq < 1) {
    throw new GovernorError('GOV_INVALID_ARGUMENT', 'Expected throughSeq to be an integer ≥ 1', {
      field: 'throughSeq',
      received: String(throughSeq),
    });
  }
  return store.transaction(() => {
    const current = readChainBase(store);
    const head = store.events.head();
    if (current !== null && throughSeq <= current.seq) {
      throw refused(`the log already starts after seq ${current.seq}; nothing to prune`, {
        throughSeq,
        baseSeq: current.seq,
      });
    }
    if (head === null || throughSeq >= head.seq) {
      throw refused(
        `seq ${throughSeq} is not before the head (seq ${head?.seq ?? 0}); the newest event is never pruned`,
        { throughSeq, headSeq: head?.seq ?? 0 },
      );
    }
    const through = store.events.get(throughSeq);
    if (through === null) {
      throw refused(`there is no event ${throughSeq} (run governor verify --full)`, {
        throughSeq,
      });
    }
    store.operatorActions.record({ operator, action: PRUNE_ACTION, reason });
    const attestation = store.events.append({
      eventType: 'OPERATOR_ACTION',
      reason,
      metadata: {
        operator,
        action: PRUNE_ACTION,
        throughSeq,
        throughHash: through.hash,
        archive,
      },
    });
    const prunedAt = attestation.timestamp;
    const prunedEvents = store.execute(
      'eventLogBase.prune',
      'DELETE FROM events WHERE seq <= ?',
      throughSeq,
    );
    store.execute(
      'eventLogBase.record',
      `INSERT INTO event_log_base (id, through_seq, through_hash, pruned_at, operator, reason, archive)
       VALUES (1, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET through_seq = excluded.through_seq,
         through_hash = excluded.through_hash, pruned_at = excluded.pruned_at,
         operator = excluded.operator, reason = excluded.reason, archive = excluded.archive`,
      throughSeq,
      through.hash,
      prunedAt,
      operator,
      reason,
      archive,
    );
    return {
      base: { seq: throughSeq, hash: through.hash, prunedAt, operator, reason, archive },
      prunedEvents,
      attestation,
    };
  });
}
