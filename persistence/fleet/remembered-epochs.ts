/**
 * The fleet epochs a host established or obeyed, kept in its SQLite database (migration 11): a
 * process that starts again after a kill and a release it never saw finds an epoch higher than
 * the one it remembers and obeys the kill, as a partitioned host does. As the latch, they are held twice in
 * one transaction: the `fleet_epochs` table (epochs only rise there) and a FLEET_EPOCHS_ESTABLISHED
 * event in the hash-chained log. What is remembered is the higher of the two per scope, so a row
 * deleted outside governor forgets nothing (and is reported), and removing the event breaks the
 * chain the integrity checks verify. Also imports the side file earlier versions kept.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fsyncDirectory } from '../durable-file.js';
import { parseObject } from '../logged-latch.js';
import { sideFilePath } from '../side-files.js';
import type { StoreCore } from '../store-core.js';

export const FLEET_EPOCHS_EVENT = 'FLEET_EPOCHS_ESTABLISHED';
/** The side file of earlier versions (`<db>.fleet-epochs.json`), imported at the first start. */
export const FLEET_EPOCHS_SUFFIX = '.fleet-epochs.json';

export interface RememberedEpochs {
  /** Per scope, the higher of the table's epoch and the last event's; null: nothing remembered. */
  readonly epochs: Record<string, number> | null;
  /** Where the table holds less than the event log, in words (rows removed outside governor). */
  readonly discrepancy: string | null;
}

interface EpochRow {
  scope: string;
  epoch: number;
}

/** Epochs from a parsed object: scope → non-negative safe integer; anything else is skipped. */
function epochsFrom(value: unknown): Record<string, number> {
  const epochs: Record<string, number> = {};
  if (typeof value !== 'object' || value === null) return epochs;
  for (const [scope, epoch] of Object.entries(value)) {
    if (typeof epoch === 'number' && Number.isSafeInteger(epoch) && epoch >= 0) {
      epochs[scope] = epoch;
    }
  }
  return epochs;
}

/** The epochs the last FLEET_EPOCHS_ESTABLISHED event records ({} when there is none). */
function loggedEpochs(store: StoreCore): Record<string, number> {
  const rows = store.query<{ metadata: string }>(
    'fleetEpochs.logged',
    'SELECT metadata FROM events WHERE event_type = ? ORDER BY seq DESC LIMIT 1',
    FLEET_EPOCHS_EVENT,
  );
  const metadata = rows[0] === undefined ? {} : parseObject(rows[0].metadata);
  return epochsFrom(metadata.epochs);
}

function tableEpochs(store: StoreCore): Record<string, number> {
  const epochs: Record<string, number> = {};
  for (const row of store.query<EpochRow>(
    'fleetEpochs.table',
    'SELECT scope, epoch FROM fleet_epochs',
  )) {
    epochs[row.scope] = Number(row.epoch);
  }
  return epochs;
}

/** What this host remembers: per scope the higher of the table and the event log. */
export function readRememberedEpochs(store: StoreCore): RememberedEpochs {
  const table = tableEpochs(store);
  const logged = loggedEpochs(store);
  const epochs: Record<string, number> = { ...table };
  const missing: string[] = [];
  for (const [scope, epoch] of Object.entries(logged)) {
    if ((table[scope] ?? -1) < epoch) {
      missing.push(`${scope} ${table[scope] ?? 'absent'} < ${epoch}`);
      epochs[scope] = epoch;
    }
  }
  return {
    epochs: Object.keys(epochs).length === 0 ? null : epochs,
    discrepancy:
      missing.length === 0
        ? null
        : `fleet_epochs holds less than the event log's last ${FLEET_EPOCHS_EVENT} (${missing.join(', ')}): rows removed or lowered outside governor; the higher epochs are kept`,
  };
}

/**
 * Records epochs this host established or obeyed (or imported): in one transaction, each
 * row rises to the epoch given (never falls), and when that changed anything (or the event log
 * holds less) a FLEET_EPOCHS_ESTABLISHED event records every remembered epoch. Returns whether
 * anything was written.
 */
export function rememberEpochs(
  store: StoreCore,
  epochs: Readonly<Record<string, number>>,
  at: string,
  reason: string,
): boolean {
  const given = epochsFrom(epochs);
  return store.transaction(() => {
    const before = readRememberedEpochs(store);
    const logged = loggedEpochs(store);
    let changed = false;
    for (const [scope, epoch] of Object.entries(given)) {
      const rows = store.execute(
        'fleetEpochs.raise',
        `INSERT INTO fleet_epochs (scope, epoch, established_at) VALUES (?, ?, ?)
           ON CONFLICT (scope) DO UPDATE SET epoch = excluded.epoch,
             established_at = excluded.established_at
           WHERE excluded.epoch > fleet_epochs.epoch`,
        scope,
        epoch,
        at,
      );
      if (rows > 0) changed = true;
    }
    // Rows removed outside governor are written back from the event log.
    for (const [scope, epoch] of Object.entries(before.epochs ?? {})) {
      const rows = store.execute(
        'fleetEpochs.restore',
        `INSERT INTO fleet_epochs (scope, epoch, established_at) VALUES (?, ?, ?)
           ON CONFLICT (scope) DO UPDATE SET epoch = excluded.epoch
           WHERE excluded.epoch > fleet_epochs.epoch`,
        scope,
        epoch,
        at,
      );
      if (rows > 0) changed = true;
    }
    const now = tableEpochs(store);
    const logCovers = Object.entries(now).every(([scope, epoch]) => (logged[scope] ?? -1) >= epoch);
    if (!changed && logCovers) return false;
    store.events.append({
      eventType: FLEET_EPOCHS_EVENT,
      reason,
      metadata: { epochs: now, at },
    });
    return true;
  });
}

/**
 * Imports the side file an earlier version kept beside the database (`<db>.fleet-epochs.json`)
 * into the store, then removes it. Returns what happened, for the log: null when there was no
 * file. An unreadable file is left where it is.
 */
export function importEpochsSideFile(
  store: StoreCore,
  dbPath: string,
  at: string,
): { imported: Record<string, number> } | { unreadable: string } | null {
  const path = sideFilePath(dbPath, FLEET_EPOCHS_SUFFIX);
  if (path === null || !existsSync(path)) return null;
  let epochs: Record<string, number>;
  try {
    const parsed = parseObject(readFileSync(path, 'utf8'));
    if (typeof parsed.epochs !== 'object' || parsed.epochs === null) {
      return { unreadable: path };
    }
    epochs = epochsFrom(parsed.epochs);
  } catch {
    return { unreadable: path };
  }
  rememberEpochs(store, epochs, at, `fleet epochs imported from ${FLEET_EPOCHS_SUFFIX}`);
  rmSync(path, { force: true });
  fsyncDirectory(path);
  return { imported: epochs };
}
