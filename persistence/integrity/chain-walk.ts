/**
 * The one hash-chain walker. Rows are checked in seq order (continuity, hash link, recomputed
 * hash with `computeEventHash`, timestamp shape, order and plausibility); each row's own checks
 * need only the row, its link checks only the walk's state at the row before. So a log splits
 * into segments walked apart (in worker threads) from an unknown start: the checks that need the
 * predecessor are left pending and resolved when the segments are joined in order.
 */
import { computeEventHash, GENESIS_HASH } from '../event-log.js';

export type EventFindingKind =
  | 'SEQ_GAP'
  | 'PREV_HASH_MISMATCH'
  | 'HASH_MISMATCH'
  | 'MALFORMED_ROW'
  | 'TIMESTAMP_MALFORMED'
  | 'TIMESTAMP_BACKWARDS'
  | 'TIMESTAMP_FUTURE';

export interface EventFinding {
  readonly kind: EventFindingKind;
  readonly seq: number;
  readonly detail: string;
}

/**
 * A walk bounded by the head it read (toSeq) that stopped at `lastSeq` before it: rows up to
 * the head are missing, or hidden from the seq order by a damaged b-tree (a range scan ends at
 * the first out-of-order key). Null when the walk reached the head.
 */
export function shortOfHead(lastSeq: number, toSeq: number): EventFinding | null {
  return lastSeq < toSeq
    ? {
        kind: 'SEQ_GAP',
        seq: lastSeq + 1,
        detail: `the walk ended at seq ${lastSeq}, before seq ${toSeq}, the head it set out to reach`,
      }
    : null;
}

/** Where a walk stopped: the last row it read (seq, hash, timestamp), whatever it found. */
export interface ScanPosition {
  readonly seq: number;
  readonly hash: string;
  readonly timestamp: string;
}

/** An events row as read raw: seq, event_id, timestamp, event_type, reason, metadata, prev_hash, hash. */
export type RawEventRow = [number, unknown, unknown, unknown, unknown, unknown, unknown, unknown];

export interface ChainRules {
  /** Timestamps greater than this ISO text are implausibly far in the future. */
  readonly futureLimitIso: string;
  /** A timestamp may step back this much from its predecessor (a wall clock set back). */
  readonly backwardsToleranceMs: number;
  /** Findings kept; the rest are counted. */
  readonly findingsMax: number;
  /** Check timestamps too (default). `verifyChain` checks links and hashes only. */
  readonly timestamps?: boolean;
}

/**
 * What the walk knows between two rows. In a segment walked apart from its predecessor a field
 * is null until a row of the segment sets it.
 */
export interface ChainState {
  /** The seq the next row must have. */
  readonly expectedSeq: number | null;
  /** The hash of the last well-formed row: the next `prev_hash`. */
  readonly previousHash: string | null;
  /** The last well-formed timestamp ('' before the first event). */
  readonly previousTimestamp: string | null;
  /** The seq of the last well-formed row (null: none yet). */
  readonly lastSeq: number | null;
}

/** A check a segment could not make alone; `joinSegments` makes it with the state before. */
export type PendingCheck =
  | {
      readonly pending: 'LINK';
      readonly seq: number;
      readonly prevHash: string;
      /** Also compare `seq` with the expected seq (the segment's first row). */
      readonly checkSeq: boolean;
    }
  | { readonly pending: 'BACKWARDS'; readonly seq: number; readonly timestamp: string };

/** A walked segment (plain data: it crosses from a worker thread). */
export interface ChainSegment {
  readonly checked: number;
  /** Findings (at most `findingsMax`) and pending checks, in row order. */
  readonly items: ReadonlyArray<EventFinding | PendingCheck>;
  /** Findings beyond `findingsMax`, counted. */
  readonly dropped: number;
  /** The state after the segment's last row (null fields: not set by the segment). */
  readonly end: ChainState;
}

export interface ChainWalk {
  readonly checked: number;
  readonly findings: readonly EventFinding[];
  /** Findings beyond `findingsMax` that were counted but not kept. */
  readonly findingsDropped: number;
  readonly last: ScanPosition | null;
}

export const UNKNOWN_STATE: ChainState = {
  expectedSeq: null,
  previousHash: null,
  previousTimestamp: null,
  lastSeq: null,
};

/** The state before the row after `after` (null: before seq 1, linking to GENESIS_HASH). */
export function stateAfter(after: ScanPosition | null): ChainState {
  return {
    expectedSeq: (after?.seq ?? 0) + 1,
    previousHash: after?.hash ?? GENESIS_HASH,
    previousTimestamp: after?.timestamp ?? '',
    lastSeq: after?.seq ?? null,
  };
}

// toISOString's form: every timestamp governor writes has exactly this shape, so ISO texts of
// this shape compare in time order as strings.
const ISO_MS_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function seqGap(expectedSeq: number, seq: number): EventFinding {
  return {
    kind: 'SEQ_GAP',
    seq: expectedSeq,
    detail:
      seq > expectedSeq
        ? `seq ${expectedSeq}${seq - 1 > expectedSeq ? `..${seq - 1}` : ''} missing (next row is ${seq})`
        : `seq ${seq} after ${expectedSeq - 1}`,
  };
}

function brokenLink(seq: number): EventFinding {
  return {
    kind: 'PREV_HASH_MISMATCH',
    seq,
    detail: `prev_hash does not link to the hash of seq ${seq - 1}`,
  };
}

function steppedBack(
  seq: number,
  timestamp: string,
  previous: string,
  toleranceMs: number,
): EventFinding | null {
  return timestamp < previous && Date.parse(previous) - Date.parse(timestamp) > toleranceMs
    ? {
        kind: 'TIMESTAMP_BACKWARDS',
        seq,
        detail: `${timestamp} is before ${previous} (seq ${seq - 1})`,
      }
    : null;
}

/**
 * Walks consecutive rows from a start state (known, or UNKNOWN_STATE for a segment). After a
 * finding it resynchronises on the row it read, so independent damage is reported separately.
 */
export class SegmentWalker {
  private expectedSeq: number | null;
  private previousHash: string | null;
  private previousTimestamp: string | null;
  private lastSeq: number | null;
  private checked = 0;
  private readonly items: Array<EventFinding | PendingCheck> = [];
  private kept = 0;
  private dropped = 0;
  private readonly timestamps: boolean;

  constructor(
    start: ChainState,
    private rules: ChainRules,
  ) {
    this.expectedSeq = start.expectedSeq;
    this.previousHash = start.previousHash;
    this.previousTimestamp = start.previousTimestamp;
    this.lastSeq = start.lastSeq;
    this.timestamps = rules.timestamps !== false;
  }

  get rowsChecked(): number {
    return this.checked;
  }

  /**
   * A walk that follows a growing log (the background scrub) judges rows appended after it
   * began against a future limit read later: it only moves forward.
   */
  raiseFutureLimit(limitIso: string): void {
    if (limitIso > this.rules.futureLimitIso)
      this.rules = { ...this.rules, futureLimitIso: limitIso };
  }

  /** Findings kept so far (no pending check arises from a known start). */
  get findingsKept(): number {
    return this.kept;
  }

  walk(rows: readonly RawEventRow[]): void {
    for (let index = 0; index < rows.length; index++) this.row(rows[index] as RawEventRow);
  }

  result(): ChainSegment {
    return {
      checked: this.checked,
      items: [...this.items],
      dropped: this.dropped,
      end: {
        expectedSeq: this.expectedSeq,
        previousHash: this.previousHash,
        previousTimestamp: this.previousTimestamp,
        lastSeq: this.lastSeq,
      },
    };
  }

  /** Items from `index` on: what a caller reading findings as they come has not seen yet. */
  itemsFrom(index: number): ReadonlyArray<EventFinding | PendingCheck> {
    return this.items.slice(index);
  }

  private add(finding: EventFinding): void {
    if (this.kept < this.rules.findingsMax) {
      this.items.push(finding);
      this.kept++;
    } else {
      this.dropped++;
    }
  }

  private row(row: RawEventRow): void {
    const [seq, eventId, timestamp, eventType, reason, metadata, prevHash, hash] = row;
    this.checked++;
    if (
      typeof eventId !== 'string' ||
      typeof timestamp !== 'string' ||
      typeof eventType !== 'string' ||
      typeof reason !== 'string' ||
      typeof metadata !== 'string' ||
      typeof prevHash !== 'string' ||
      typeof hash !== 'string'
    ) {
      this.add({ kind: 'MALFORMED_ROW', seq, detail: 'a column is not text' });
      this.expectedSeq = seq + 1;
      return;
    }
    this.link(seq, prevHash);
    const fields = { seq, eventId, timestamp, eventType, reason, metadataText: metadata, prevHash };
    if (computeEventHash(fields) !== hash) {
      this.add({
        kind: 'HASH_MISMATCH',
        seq,
        detail: 'stored hash differs from the hash of the row',
      });
    }
    if (this.timestamps) this.time(seq, timestamp);
    this.previousHash = hash;
    this.expectedSeq = seq + 1;
    this.lastSeq = seq;
  }

  private link(seq: number, prevHash: string): void {
    const expectedSeq = this.expectedSeq;
    if (expectedSeq === null) {
      this.items.push({ pending: 'LINK', seq, prevHash, checkSeq: true });
    } else if (seq !== expectedSeq) {
      this.add(seqGap(expectedSeq, seq));
    } else if (this.previousHash === null) {
      this.items.push({ pending: 'LINK', seq, prevHash, checkSeq: false });
    } else if (prevHash !== this.previousHash) {
      this.add(brokenLink(seq));
    }
  }

  private time(seq: number, timestamp: string): void {
    if (timestamp.length !== 24 || !ISO_MS_PATTERN.test(timestamp)) {
      this.add({ kind: 'TIMESTAMP_MALFORMED', seq, detail: `timestamp ${timestamp.slice(0, 40)}` });
      return;
    }
    const previous = this.previousTimestamp;
    if (previous === null) {
      this.items.push({ pending: 'BACKWARDS', seq, timestamp });
    } else {
      const back = steppedBack(seq, timestamp, previous, this.rules.backwardsToleranceMs);
      if (back !== null) this.add(back);
    }
    if (timestamp > this.rules.futureLimitIso) {
      this.add({
        kind: 'TIMESTAMP_FUTURE',
        seq,
        detail: `${timestamp} is after ${this.rules.futureLimitIso}`,
      });
    }
    this.previousTimestamp = timestamp;
  }
}

/** Makes a pending check with the state before its segment; null when it passes. */
function resolve(check: PendingCheck, before: ChainState, rules: ChainRules): EventFinding | null {
  if (check.pending === 'BACKWARDS') {
    const previous = before.previousTimestamp;
    return previous === null
      ? null
      : steppedBack(check.seq, check.timestamp, previous, rules.backwardsToleranceMs);
  }
  if (check.checkSeq && before.expectedSeq !== null && check.seq !== before.expectedSeq) {
    return seqGap(before.expectedSeq, check.seq);
  }
  // An unknown previous hash (verifyChain from a seq without a remembered hash) links anything.
  return before.previousHash !== null && check.prevHash !== before.previousHash
    ? brokenLink(check.seq)
    : null;
}

/** The state after a segment, given the state before it. */
function stateThrough(before: ChainState, segment: ChainSegment): ChainState {
  const end = segment.end;
  return {
    expectedSeq: end.expectedSeq ?? before.expectedSeq,
    previousHash: end.previousHash ?? before.previousHash,
    previousTimestamp: end.previousTimestamp ?? before.previousTimestamp,
    lastSeq: end.lastSeq ?? before.lastSeq,
  };
}

/**
 * Joins segments walked in order from `start`: pending checks are made, findings concatenated
 * and capped at `findingsMax`. A single segment walked from a known start joins to itself, so
 * the result is the same however the rows were split.
 */
export function joinSegments(
  start: ChainState,
  segments: readonly ChainSegment[],
  rules: ChainRules,
): ChainWalk {
  let state = start;
  const findings: EventFinding[] = [];
  let dropped = 0;
  let checked = 0;
  for (const segment of segments) {
    for (const item of segment.items) {
      if ('pending' in item) {
        const finding = resolve(item, state, rules);
        if (finding !== null) findings.push(finding);
      } else {
        findings.push(item);
      }
    }
    dropped += segment.dropped;
    checked += segment.checked;
    state = stateThrough(state, segment);
  }
  const kept = findings.slice(0, rules.findingsMax);
  return {
    checked,
    findings: kept,
    findingsDropped: dropped + findings.length - kept.length,
    last:
      state.lastSeq === null || state.previousHash === null
        ? null
        : {
            seq: state.lastSeq,
            hash: state.previousHash,
            timestamp: state.previousTimestamp ?? '',
          },
  };
}
