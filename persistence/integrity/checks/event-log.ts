/**
 * EVENT_LOG: the checks around the chain walk (the chain base of a pruned log, checks/chain-base.ts;
 * in a full run, the row count against the head and base;
 * the verified head unchanged, the head anchor, the UNIQUE index on event_id, duplicate ids
 * found inside SQLite) and the violations the walk's
 * findings become. The walk itself is chain-walk.ts, run by the verifier in or off the thread.
 */

import type { EventFinding, EventFindingKind, ScanPosition } from '../chain-walk.js';
import type { HeadAnchor } from '../head-anchor.js';
import type { IntegrityScan } from '../integrity-scan.js';
import { type IntegrityViolation, RESTORE } from '../violation.js';

const EVENT_TEXT: Readonly<Record<EventFindingKind, { what: string; rootCause: string }>> = {
  SEQ_GAP: {
    what: 'seq gap',
    rootCause: 'events were deleted from the middle of the log, or rows were renumbered',
  },
  PREV_HASH_MISMATCH: {
    what: 'broken hash link',
    rootCause:
      'an event was inserted, removed or rewritten: prev_hash no longer links to its predecessor',
  },
  HASH_MISMATCH: {
    what: 'hash mismatch',
    rootCause:
      'an event (its id, time, type, reason, metadata or hash) was edited after it was written',
  },
  MALFORMED_ROW: {
    what: 'malformed row',
    rootCause: 'an event row holds a value of the wrong type: a write bypassed governor',
  },
  TIMESTAMP_MALFORMED: {
    what: 'malformed timestamp',
    rootCause: 'an event timestamp is not the ISO-8601 UTC form governor writes',
  },
  TIMESTAMP_BACKWARDS: {
    what: 'timestamp goes backwards',
    rootCause:
      'events were reordered or their timestamps edited (governor writes non-decreasing times unless the wall clock was set back)',
  },
  TIMESTAMP_FUTURE: {
    what: 'timestamp in the future',
    rootCause:
      'an event carries a time implausibly far ahead of the wall clock: edited, or written by a host with a wrong clock',
  },
};

export function eventViolation(
  description: string,
  location: Record<string, string | number>,
  rootCause: string,
): IntegrityViolation {
  return {
    check: 'EVENT_LOG',
    severity: 'CRITICAL',
    description: `event log: ${description}`,
    location,
    rootCause,
    recommendedAction: RESTORE,
  };
}

/** The violation a chain-walk finding is reported as. */
export function fromEventFinding(finding: EventFinding): IntegrityViolation {
  const text = EVENT_TEXT[finding.kind];
  return eventViolation(
    `${text.what} at seq ${finding.seq}: ${finding.detail}`,
    { seq: finding.seq, kind: finding.kind },
    text.rootCause,
  );
}

/** The head anchor beside the database could not be read: itself a finding. */
export function anchorUnreadable(path: string | null, error: Error): IntegrityViolation {
  return {
    check: 'EVENT_LOG',
    severity: 'CRITICAL',
    description: `head anchor unreadable: ${error.message}`,
    location: { file: path ?? '' },
    rootCause: 'the head anchor beside the database was edited or damaged',
    recommendedAction: RESTORE,
  };
}

/** Compares an anchored (or expected) head with the hash the chain holds at its seq. */
export function anchorViolations(
  anchor: { seq: number; hash: string },
  chainHash: string | null,
  label: string,
): IntegrityViolation[] {
  if (chainHash === anchor.hash) return [];
  return [
    eventViolation(
      chainHash === null
        ? `${label} mismatch: the log ends before seq ${anchor.seq}, which was verified earlier (newest events deleted)`
        : `${label} mismatch: seq ${anchor.seq} has hash ${chainHash.slice(0, 12)}…, not the anchored ${anchor.hash.slice(0, 12)}…`,
      { seq: anchor.seq, anchoredHash: anchor.hash },
      chainHash === null
        ? 'the event log was truncated (or an older copy of the database was restored)'
        : 'the event log was rewritten from this seq or earlier, hashes recomputed (or a different database was put in place)',
    ),
  ];
}

/** True when `events.event_id` is covered by a UNIQUE index, as the schema declares. */
function eventIdIsUnique(scan: IntegrityScan): boolean {
  return scan.read('integrity.eventIdIsUnique', (db) => {
    const indexes = db.pragma('index_list(events)') as Array<{
      name: string;
      unique: number;
      partial: number;
    }>;
    return indexes.some((index) => {
      if (index.unique !== 1 || index.partial !== 0) return false;
      const columns = db.pragma(`index_info(${JSON.stringify(index.name)})`) as Array<{
        name: string | null;
      }>;
      return columns.length === 1 && columns[0]?.name === 'event_id';
    });
  });
}

interface DuplicateEventId {
  readonly eventId: string;
  readonly count: number;
  readonly seqs: string;
}

/**
 * Event ids held by more than one row, found inside SQLite: a GROUP BY (SQLite's external
 * sorter spills to temporary files), so no id list is held in JavaScript. With `afterSeq`, only
 * ids of rows after it (incremental): a seq range scan of the new rows with one lookup each.
 */
function duplicateEventIds(
  scan: IntegrityScan,
  afterSeq: number | null,
  limit: number,
): DuplicateEventId[] {
  const sql =
    afterSeq === null
      ? `SELECT event_id AS eventId, count(*) AS count, group_concat(seq) AS seqs
           FROM events GROUP BY event_id HAVING count(*) > 1 LIMIT ?`
      : `SELECT e.event_id AS eventId,
                (SELECT count(*) FROM events f WHERE f.event_id = e.event_id) AS count,
                (SELECT group_concat(f.seq) FROM events f WHERE f.event_id = e.event_id) AS seqs
           FROM events e
          WHERE e.seq > ? AND EXISTS
                (SELECT 1 FROM events f WHERE f.event_id = e.event_id AND f.seq <> e.seq)
          LIMIT ?`;
  return scan.read('integrity.duplicateEventIds', (db) => {
    const statement = db.prepare<number[], DuplicateEventId>(sql);
    return afterSeq === null ? statement.all(limit) : statement.all(afterSeq, limit);
  });
}

/**
 * A full walk covers the chain base (0: none) to the head; seq is continuous after the base, so
 * there must be exactly head − base rows (`rows`: `count(*)`, which SQLite answers from an
 * index, not the seq order). A damaged b-tree can hide rows from the seq order (and the head).
 */
export function rowCountViolations(
  rows: number,
  headSeq: number,
  baseSeq = 0,
): IntegrityViolation[] {
  // After a prune the chain starts after its base: head − base rows.
  const expected = Math.max(0, headSeq - baseSeq);
  if (rows === expected) return [];
  return [
    eventViolation(
      baseSeq === 0
        ? `${rows} rows but the head is seq ${headSeq}`
        : `${rows} rows but the head is seq ${headSeq} and the chain base seq ${baseSeq} (${expected} expected)`,
      { seq: headSeq, kind: 'ROW_COUNT_MISMATCH' },
      'the file is damaged (rows hidden from the seq order), or rows were renumbered outside governor',
    ),
  ];
}

/**
 * The checks made before the walk, in the verifier's read snapshot: the position an incremental
 * run resumes from still holds its hash, the anchor matches, event_id is still unique.
 */
export function eventLogChecksBeforeWalk(
  scan: IntegrityScan,
  start: ScanPosition | null,
  /** The chain base as checks/chain-base.ts read it (seq 0: none), and its violations. */
  base: { readonly seq: number; readonly violations: readonly IntegrityViolation[] },
  anchor: HeadAnchor | null,
  findingsMax: number,
  options: { readonly countInWorker?: boolean } = {},
): IntegrityViolation[] {
  const found: IntegrityViolation[] = [];
  if (start === null && options.countInWorker !== true) {
    found.push(...rowCountViolations(scan.countEvents(), scan.head()?.seq ?? 0, base.seq));
  }
  // (The count comes first: when a worker counts, its finding is put first too.)
  found.push(...base.violations);
  if (start !== null) {
    const stored = scan.hashAt(start.seq);
    if (stored !== start.hash) {
      found.push(
        eventViolation(
          `verified history changed: seq ${start.seq} ${stored === null ? 'is gone' : 'has a different hash'} since it was verified`,
          { seq: start.seq },
          'events already verified were deleted or rewritten',
        ),
      );
    }
  }
  if (anchor !== null)
    found.push(...anchorViolations(anchor, scan.hashAt(anchor.seq), 'head anchor'));
  // While the UNIQUE index on event_id is in place, SQLite refuses every duplicate: a scan for
  // duplicates would read that very index and could only repeat its guarantee. Without it (the
  // table was rebuilt outside governor), duplicates are searched for inside SQLite.
  if (eventIdIsUnique(scan)) return found;
  found.push(
    eventViolation(
      'events.event_id has no UNIQUE index',
      { table: 'events' },
      'the events table was rebuilt outside governor without its unique event_id index',
    ),
  );
  for (const duplicate of duplicateEventIds(scan, start?.seq ?? null, findingsMax)) {
    found.push(
      eventViolation(
        `duplicate event id ${duplicate.eventId} (${duplicate.count} rows, seq ${duplicate.seqs})`,
        { seq: Number(duplicate.seqs.split(',')[0]), eventId: duplicate.eventId },
        'an event id occurs more than once: rows were copied or inserted outside governor',
      ),
    );
  }
  return found;
}
