/**
 * Who owns a database file, in one module: taking ownership (take.ts: the owner lock and the
 * owner row, claimed together), finding the owner without taking anything (find-owner.ts),
 * sending an operator request to the owner and waiting for it (request.ts), and the read door
 * that never writes (reader.ts). The lock itself is SQLite's, so it lies in persistence
 * (persistence/owner-lock.ts), which only this module and the journal that writes the owner row
 * use. Outside the governor everything imports from this index; the GovernanceSystem and the
 * modules it imports (status.ts) take take.ts and find-owner.ts directly, because request.ts
 * starts a GovernanceSystem as a temporary owner (.dependency-cruiser.cjs holds both rules).
 */
export {
  type OwnerInfo,
  ownerAlive,
  ownerOnRecord,
  ownerStillHolds,
  readOwnerQuietly,
} from './find-owner.js';
export { openDatabaseReader } from './reader.js';
export {
  type OwnerRequest,
  type RequestOutcome,
  type RequestRead,
  sendOwnerRequest,
  type TemporaryOwnerConfig,
} from './request.js';
export {
  acquireOwnerLock,
  adoptSideFiles,
  claimOwnerRow,
  type OwnerLock,
  ownedError,
  refuseExtraNames,
} from './take.js';
