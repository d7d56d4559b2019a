/**
 * The read door for the shell (the command line's reads, the venue report): a governor database
 * opened read-only, through SQLite's own read-only mode, so nothing read this way can write.
 */
import { Store } from '../../../persistence/store.js';

/** Opens `dbPath` read-only (GOV_STORAGE_FAILURE or GOV_NOT_A_GOVERNOR_DATABASE when it cannot). */
export function openDatabaseReader(dbPath: string): Store {
  return Store.open(dbPath, { readonly: true });
}
