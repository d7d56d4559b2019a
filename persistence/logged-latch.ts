/**
 * The latch as the event log justifies it: the last SYSTEM_SHUTDOWN not followed by an operator
 * RESTART, read back page by page (AUTHORITY_PAGE rows at a time), the latch it records, and the
 * discrepancy, in words, between it and the latch `system_state` holds. Also the lenient reading
 * of a stored JSON object the journal shares (an event's metadata, the owner's thresholds). The
 * mode journal (mode-journal.ts) reads the authority record through it.
 */
import type { ShutdownLatch, ShutdownTrigger } from '../machines/types.js';
import { isShutdownTrigger } from '../machines/types.js';
import type { Store } from './store.js';

/** A SYSTEM_SHUTDOWN or OPERATOR_ACTION event as the journal reads it back. */
export interface AuthorityEventRow {
  seq: number;
  event_type: string;
  reason: string;
  metadata: string;
  timestamp: string;
}

/** Rows read per page while looking back for the last shutdown or restart. */
const AUTHORITY_PAGE = 256;

/** A stored JSON object, or {} when the text is not one. */
export function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The latch a SYSTEM_SHUTDOWN event records (its trigger, reason and time). */
export function latchOfEvent(row: AuthorityEventRow): ShutdownLatch {
  const metadata = parseObject(row.metadata);
  const trigger: ShutdownTrigger = isShutdownTrigger(metadata.trigger)
    ? metadata.trigger
    : 'UNRECOVERABLE_EXCEPTION';
  const at = typeof metadata.at === 'string' ? metadata.at : row.timestamp;
  return { trigger, reason: row.reason, at };
}

function describeLatch(latch: ShutdownLatch): string {
  return `${latch.trigger} at ${latch.at} ("${latch.reason}")`;
}

/** The last SYSTEM_SHUTDOWN not followed by an operator RESTART, or null. */
export function lastLatchEvent(store: Store): AuthorityEventRow | null {
  let before = Number.MAX_SAFE_INTEGER;
  for (;;) {
    const rows = store.query<AuthorityEventRow>(
      'journal.latchFromEventLog',
      `SELECT seq, event_type, reason, metadata, timestamp FROM events
         WHERE event_type IN ('SYSTEM_SHUTDOWN', 'OPERATOR_ACTION') AND seq < ?
         ORDER BY seq DESC LIMIT ?`,
      before,
      AUTHORITY_PAGE,
    );
    for (const row of rows) {
      if (row.event_type === 'SYSTEM_SHUTDOWN') return row;
      if (parseObject(row.metadata).action === 'RESTART') return null;
    }
    const last = rows[rows.length - 1];
    if (rows.length < AUTHORITY_PAGE || last === undefined) return null;
    before = last.seq;
  }
}

/** Where `system_state` and the event log disagree about the latch, in words; null when they agree. */
export function discrepancyOf(
  recorded: ShutdownLatch | null,
  logged: ShutdownLatch | null,
): string | null {
  if (recorded === null && logged !== null) {
    return `system_state shows no latch, but the event log's last shutdown, ${describeLatch(logged)}, was never cleared by an operator restart: the latch was removed outside governor and is still in force`;
  }
  if (recorded !== null && logged === null) {
    return `system_state holds a latch, ${describeLatch(recorded)}, that no SYSTEM_SHUTDOWN in the event log justifies (events removed, or the latch written outside governor); it stays in force`;
  }
  return null;
}
