/**
 * The shell's short read of the record (`governor status` with nobody running): the database
 * opened read-only as reader.ts opens it, with the core repositories only (the event log, system
 * state, alerts, venues), so none of the other repositories' modules is loaded.
 */
import { StoreCore } from '../../persistence/store-core.js';

/** Opens `dbPath` read-only (GOV_STORAGE_FAILURE or GOV_NOT_A_GOVERNOR_DATABASE when it cannot). */
export function openRecordReader(dbPath: string): StoreCore {
  return StoreCore.open(dbPath, { readonly: true });
}
