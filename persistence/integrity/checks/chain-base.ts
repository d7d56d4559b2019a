/**
 * The chain base of a pruned log (persistence/event-log-base.ts) as every verifier reads it:
 * where the walk starts (after the base's seq, linking to its hash instead of GENESIS_HASH),
 * and the base's own checks: its row is well formed, and an OPERATOR_ACTION PRUNE event later
 * in the chain names exactly its seq and hash. A base without that attestation is a hole cut
 * outside governor (docs/integrity.md, "A pruned log").
 */
import { PRUNE_ACTION } from '../../event-log-base.js';
import type { ScanPosition } from '../chain-walk.js';
import type { IntegrityScan } from '../integrity-scan.js';
import type { IntegrityViolation } from '../violation.js';
import { eventViolation } from './event-log.js';

export interface BaseReading {
  /** The position the walk starts after; null: from seq 1 (no base, or an unusable one). */
  readonly start: ScanPosition | null;
  /** The base's seq when it is usable (0 without a base): the row count is head − this. */
  readonly seq: number;
  readonly violations: readonly IntegrityViolation[];
}

/** The `location.kind`s of the base's violations (docs/integrity.md lists each; a test checks). */
export const BASE_VIOLATION_KINDS = ['UNATTESTED_BASE', 'MALFORMED_BASE'] as const;

const HASH_PATTERN = /^[0-9a-f]{64}$/;

const UNATTESTED_CAUSE =
  'events were deleted from the start of the log outside governor and a chain base written by hand (a prune by `governor events prune` appends an OPERATOR_ACTION PRUNE event naming its base), or the attesting event was removed';

function parseObject(text: unknown): Record<string, unknown> {
  if (typeof text !== 'string') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** True when an OPERATOR_ACTION PRUNE event after the base names exactly its seq and hash. */
function attested(scan: IntegrityScan, seq: number, hash: string): boolean {
  for (const row of scan.operatorActionsAfter(seq)) {
    const metadata = parseObject(row.metadata);
    if (
      metadata.action === PRUNE_ACTION &&
      metadata.throughSeq === seq &&
      metadata.throughHash === hash
    ) {
      return true;
    }
  }
  return false;
}

/**
 * Reads the base inside the caller's snapshot and checks it. A malformed base row is a
 * violation and the walk then starts at seq 1 (so the missing rows are reported as well).
 */
export function readBase(scan: IntegrityScan): BaseReading {
  const row = scan.chainBaseRow();
  if (row === null) return { start: null, seq: 0, violations: [] };
  if (row === 'missing') {
    return {
      start: null,
      seq: 0,
      violations: [
        eventViolation(
          'the event_log_base table is missing',
          { table: 'event_log_base', kind: 'MALFORMED_BASE' },
          'the schema was changed outside governor (the table that records a pruned log’s base was dropped)',
        ),
      ],
    };
  }
  const { seq, hash } = row;
  if (
    typeof seq !== 'number' ||
    !Number.isSafeInteger(seq) ||
    seq < 1 ||
    typeof hash !== 'string' ||
    !HASH_PATTERN.test(hash)
  ) {
    return {
      start: null,
      seq: 0,
      violations: [
        eventViolation(
          `malformed chain base (seq ${String(seq).slice(0, 40)}, hash ${String(hash).slice(0, 16)})`,
          { table: 'event_log_base', kind: 'MALFORMED_BASE' },
          'the chain base was written outside governor',
        ),
      ],
    };
  }
  const violations = attested(scan, seq, hash)
    ? []
    : [
        eventViolation(
          `the chain base (seq ${seq}, hash ${hash.slice(0, 12)}…) is not attested: no OPERATOR_ACTION PRUNE event after it names this seq and hash`,
          { seq, kind: 'UNATTESTED_BASE', baseHash: hash },
          UNATTESTED_CAUSE,
        ),
      ];
  return { start: { seq, hash, timestamp: '' }, seq, violations };
}
