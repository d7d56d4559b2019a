/**
 * The health API's window on the database: the latest snapshot, the event log's head and the
 * alert outbox's rows by sink and status, read through a connection of its own opened
 * read-only. A `:memory:` database cannot be opened twice, so for it the reader falls back to
 * reading through the governance's own store and alert manager (reads only).
 */
import type { OutboxStatus, Store, StoredSnapshot } from '../../persistence/index.js';
import type { GovernanceSystem } from '../governor/governance-system.js';

/** How many rows of a `:memory:` outbox are read to count them. */
export const MEMORY_OUTBOX_ROWS_MAX = 10_000;

export interface OutboxCount {
  readonly sink: string;
  readonly status: OutboxStatus;
  readonly count: number;
}

export interface DatabaseReader {
  /** 'read-only-connection' normally; 'governance-store' for a `:memory:` database. */
  readonly source: 'read-only-connection' | 'governance-store';
  latestSnapshot(): StoredSnapshot | null;
  /** The sequence number of the last event, 0 for an empty log. */
  eventLogHeadSeq(): number;
  /** Outbox rows by sink and status (sinks with rows only). */
  outboxCounts(): readonly OutboxCount[];
  close(): void;
}

/** Opens the reader; throws (GOV_STORAGE_FAILURE, GOV_SCHEMA_NEEDS_MIGRATION…) when it cannot. */
export function openHealthReader(governance: GovernanceSystem): DatabaseReader {
  const own = governance.openReadOnlyStore();
  if (own !== null) return storeReader(own);
  // `:memory:`: the engine port's readers and the alert manager's delivery list (they only read).
  const engine = governance.engine;
  return {
    source: 'governance-store',
    latestSnapshot: () => engine.snapshots.latest(),
    eventLogHeadSeq: () => engine.events.head()?.seq ?? 0,
    outboxCounts: () => {
      const counts = new Map<string, OutboxCount>();
      for (const row of governance.alertManager.getDeliveryStatus(
        undefined,
        MEMORY_OUTBOX_ROWS_MAX,
      )) {
        if (!row.persisted) continue;
        const key = `${row.sink}\n${row.status}`;
        const count = counts.get(key)?.count ?? 0;
        counts.set(key, { sink: row.sink, status: row.status, count: count + 1 });
      }
      return [...counts.values()];
    },
    close: () => {},
  };
}

function storeReader(store: Store): DatabaseReader {
  return {
    source: 'read-only-connection',
    latestSnapshot: () => store.snapshots.latest(),
    eventLogHeadSeq: () => store.events.head()?.seq ?? 0,
    outboxCounts: () => store.alertOutbox.countBySinkAndStatus(),
    close: () => store.close(),
  };
}
