/**
 * The health API's window on the database: the latest snapshot and the event log's head, read
 * through a connection of its own opened read-only. A `:memory:` database cannot be opened
 * twice, so for it the reader falls back to reading through the governance's own store.
 */
import type { Store, StoredSnapshot } from '../../persistence/index.js';
import type { GovernanceSystem } from '../governor/governance-system.js';

export interface DatabaseReader {
  /** 'read-only-connection' normally; 'governance-store' for a `:memory:` database. */
  readonly source: 'read-only-connection' | 'governance-store';
  latestSnapshot(): StoredSnapshot | null;
  /** The sequence number of the last event, 0 for an empty log. */
  eventLogHeadSeq(): number;
  close(): void;
}

/** Opens the reader; throws (GOV_STORAGE_FAILURE, GOV_SCHEMA_NEEDS_MIGRATION…) when it cannot. */
export function openDatabaseReader(governance: GovernanceSystem): DatabaseReader {
  const own = governance.openReadOnlyStore();
  if (own !== null) return storeReader(own);
  // `:memory:`: the engine port's readers (they only read).
  const engine = governance.engine;
  return {
    source: 'governance-store',
    latestSnapshot: () => engine.snapshots.latest(),
    eventLogHeadSeq: () => engine.events.head()?.seq ?? 0,
    close: () => {},
  };
}

function storeReader(store: Store): DatabaseReader {
  return {
    source: 'read-only-connection',
    latestSnapshot: () => store.snapshots.latest(),
    eventLogHeadSeq: () => store.events.head()?.seq ?? 0,
    close: () => store.close(),
  };
}
