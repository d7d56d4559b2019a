/**
 * The fleet epochs a host established or obeyed, kept in its own database
 * (persistence/fleet/remembered-epochs.ts) for the fleet link: the side file an earlier version
 * kept is imported first and removed.
 */
import {
  importEpochsSideFile,
  readRememberedEpochs,
  rememberEpochs,
} from '../../persistence/fleet/remembered-epochs.js';
import type { Store } from '../../persistence/index.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { FleetEpochMemory } from './fleet-link.js';

export function fleetEpochMemory(
  store: Store,
  dbPath: string,
  clock: Clock,
  logger: Logger,
): FleetEpochMemory {
  const at = (): string => new Date(clock.wallNow()).toISOString();
  return {
    read: () => {
      try {
        const imported = importEpochsSideFile(store, dbPath, at());
        if (imported !== null && 'imported' in imported) {
          logger.info(
            { epochs: imported.imported },
            'fleet epochs imported from the side file into the database; the file removed',
          );
        } else if (imported !== null) {
          logger.error(
            { path: imported.unreadable },
            'the fleet epochs side file is unreadable: left where it is, not imported',
          );
        }
      } catch (error) {
        logger.error({ err: error }, 'the fleet epochs side file could not be imported');
      }
      const remembered = readRememberedEpochs(store);
      if (remembered.discrepancy !== null) logger.error(remembered.discrepancy);
      return remembered.epochs;
    },
    remember: (epochs, reason) => void rememberEpochs(store, epochs, at(), reason),
  };
}
