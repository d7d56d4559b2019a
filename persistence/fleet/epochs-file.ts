/**
 * The fleet epochs a host last established, kept beside its database (`<db>.fleet-epochs.json`,
 * written durably): a process that starts again after a kill and a release it never saw finds an
 * epoch higher than the one it remembers and obeys the kill, as a partitioned host does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileDurably } from '../durable-file.js';
import { sideFilePath } from '../side-files.js';

export const FLEET_EPOCHS_SUFFIX = '.fleet-epochs.json';

export function fleetEpochsPathFor(dbPath: string): string | null {
  return sideFilePath(dbPath, FLEET_EPOCHS_SUFFIX);
}

/** The remembered epochs, or null when there are none (or the file is unreadable). */
export function readFleetEpochs(path: string | null): Record<string, number> | null {
  if (path === null || !existsSync(path)) return null;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { epochs?: unknown };
    const epochs: Record<string, number> = {};
    if (typeof parsed.epochs !== 'object' || parsed.epochs === null) return null;
    for (const [scope, epoch] of Object.entries(parsed.epochs)) {
      if (typeof epoch === 'number' && Number.isSafeInteger(epoch) && epoch >= 0) {
        epochs[scope] = epoch;
      }
    }
    return epochs;
  } catch {
    return null;
  }
}

export function writeFleetEpochs(
  path: string | null,
  epochs: Readonly<Record<string, number>>,
  at: string,
): void {
  if (path === null) return;
  writeFileDurably(path, `${JSON.stringify({ epochs, at })}\n`, 0o600);
}
