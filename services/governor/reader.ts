/**
 * The read door for the shell (the command line's reads): a governor database opened
 * read-only, through SQLite's own read-only mode, so nothing read this way can write.
 */
import type { Store } from '../../persistence/index.js';
import { Store as StoreClass } from '../../persistence/store.js';

/** Opens `dbPath` read-only (GOV_STORAGE_FAILURE or GOV_NOT_A_GOVERNOR_DATABASE when it cannot). */
export function openDatabaseReader(dbPath: string): Store {
  return StoreClass.open(dbPath, { readonly: true });
}
