/**
 * Sending a request to the owner of a database, whatever it is (a daemon, an engine that embeds
 * governor, or nobody): the operator command is recorded in the database, and this waits until
 * the owner confirms it (the owner sees the request within its poll interval and carries it out
 * through its machine). When no owner is alive, the command line becomes the owner for a moment
 * and carries the request out itself, through the same code; the next start then honours it.
 * When an owner is alive but does not confirm in time, it says exactly that.
 */
import type { Mode } from '../../../machines/types.js';
import type { OperatorRequestRecord } from '../../../persistence/operator-requests.js';
import type { OwnerInfo } from '../../../persistence/owner-lock.js';
import { Store } from '../../../persistence/store.js';
import type { AlertSink } from '../../alerts/types.js';
import type { Thresholds } from '../../config.js';
import { isGovernorError } from '../../errors.js';
import type { GovernanceSystem } from '../governance-system.js';
import { processSignature } from '../operator-commands.js';
import { parseRecordedResult, type RecordedResult } from '../operator-results.js';
import { findOperatorCommand, operatorCommandEntry } from '../operator-vocabulary.js';
import { ownerAlive, ownerOnRecord } from './find-owner.js';

/** What a temporary owner needs, when none runs: the database, its settings and alert sinks. */
export interface TemporaryOwnerConfig {
  readonly dbPath: string;
  readonly thresholds: Thresholds;
  readonly desiredMode: Mode;
  /** Called only when this process must act as the owner (so it may load the sinks lazily). */
  readonly createAlertSinks: () => Promise<AlertSink[]>;
}

export interface OwnerRequest {
  /** A command of the operator vocabulary (services/governor/operator-vocabulary.ts). */
  readonly command: string;
  readonly operator: string;
  readonly reason: string;
  readonly alertId?: string;
  /** `restart`: `{ force: true }`; `adjust`: `{ poolId, accountId, amountMinor }` (see ../operator-vocabulary.ts). */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** A request as read back: its result parsed by the schema of operator-results.ts, not cast. */
export interface RequestRead extends Omit<OperatorRequestRecord, 'result'> {
  readonly result: RecordedResult | null;
}

export type RequestOutcome =
  /** The running owner carried it out (or refused it) and said so. */
  | {
      readonly kind: 'confirmed' | 'refused' | 'failed';
      readonly request: RequestRead;
      /**
       * On this process's monotonic clock, from just before the request was committed to when
       * this process saw the outcome: never the owner's clock, which may be another one.
       */
      readonly waitedMs: number;
    }
  /** No owner was running: this process carried it out as a temporary owner. */
  | {
      readonly kind: 'no-owner';
      readonly request: RequestRead;
      readonly status: OperatorRequestRecord['status'];
    }
  /** An owner is alive but did not confirm within the wait. */
  | {
      readonly kind: 'unconfirmed';
      readonly request: RequestRead;
      readonly waitedMs: number;
      readonly owner: OwnerInfo | null;
      readonly withdrawn: boolean;
    };

const POLL_MS = 10;
const OWNER_CHECK_MS = 100;
/** How long a temporary owner waits for its alerts to leave before closing (the rest stay queued). */
const FLUSH_MS_MAX = 2_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function openWriter(dbPath: string): Store {
  return Store.open(dbPath, { busyTimeoutMs: 2_000 });
}

/** The request `id` as read back, its result parsed (GOV_CORRUPT_RECORD when it does not fit). */
function readRequest(store: Store, id: number, fallback: OperatorRequestRecord): RequestRead {
  const record = store.operatorRequests.get(id) ?? fallback;
  const extras = findOperatorCommand(record.command)?.resultExtras ?? [];
  return { ...record, result: parseRecordedResult(record, extras) };
}

/**
 * Records `request` and waits for its outcome (see the module comment). When this process must
 * act as the owner, it delivers alerts to the sinks of `config`.
 */
export async function sendOwnerRequest(
  config: TemporaryOwnerConfig,
  request: OwnerRequest,
  waitMs?: number,
): Promise<RequestOutcome> {
  // Checked against the vocabulary before anything is recorded.
  const entry = operatorCommandEntry(request.command);
  entry.checkOptions(request.options ?? {});
  const confirmWaitMs = waitMs ?? entry.confirmWaitMs;
  const store = openWriter(config.dbPath);
  try {
    // The wait is measured on this process's monotonic clock; the wall time only dates the row.
    const startedMs = performance.now();
    const recorded = store.operatorRequests.record(
      {
        command: request.command,
        operator: request.operator,
        reason: request.reason,
        ...(request.alertId === undefined ? {} : { alertId: request.alertId }),
        ...(request.options === undefined ? {} : { options: request.options }),
        requestedBy: processSignature('cli'),
      },
      Date.now(),
    );
    let lastOwnerCheckMs: number | null = null;
    for (;;) {
      const row = readRequest(store, recorded.id, recorded);
      const waitedMs = Math.round(performance.now() - startedMs);
      if (row.status !== 'pending') {
        return {
          kind: row.status === 'done' ? 'confirmed' : row.status,
          request: row,
          waitedMs,
        };
      }
      if (lastOwnerCheckMs === null || performance.now() - lastOwnerCheckMs >= OWNER_CHECK_MS) {
        lastOwnerCheckMs = performance.now();
        if (!ownerAlive(config.dbPath)) {
          const acted = await actAsOwner(config);
          if (acted) {
            const done = readRequest(store, recorded.id, recorded);
            return { kind: 'no-owner', request: done, status: done.status };
          }
        }
      }
      if (waitedMs >= confirmWaitMs) {
        const owner = ownerOnRecord(store);
        const withdrawn = !entry.keptWhenUnconfirmed && withdraw(store, recorded.id);
        return {
          kind: 'unconfirmed',
          request: readRequest(store, recorded.id, recorded),
          waitedMs,
          owner,
          withdrawn,
        };
      }
      await sleep(POLL_MS);
    }
  } finally {
    store.close();
  }
}

/** A resume or restart not confirmed in time is withdrawn rather than carried out by surprise. */
function withdraw(store: Store, id: number): boolean {
  return store.operatorRequests.complete(id, {
    status: 'failed',
    handledAtMs: Date.now(),
    handledBy: processSignature('cli'),
    result: { message: 'withdrawn by the requester: the owner did not confirm in time' },
  });
}

/**
 * Becomes the owner for a moment (no owner is alive) and carries out every pending request,
 * through the same GovernanceSystem code a running owner uses. False when an owner appeared.
 */
async function actAsOwner(config: TemporaryOwnerConfig): Promise<boolean> {
  // Loaded only here: the statechart, the logger and the alert machinery are an owner's.
  const { GovernanceSystem } = await import('../governance-system.js');
  const sinks = await config.createAlertSinks();
  let governance: GovernanceSystem;
  try {
    governance = new GovernanceSystem({
      dbPath: config.dbPath,
      thresholds: config.thresholds,
      desiredMode: config.desiredMode,
      alertSinks: sinks,
      operatorRequestPollMs: null,
      actingOwner: true,
    });
  } catch (error) {
    if (isGovernorError(error, 'GOV_DATABASE_OWNED')) return false;
    throw error;
  }
  try {
    await governance.pollOperatorRequests();
    await flushWithin(governance, FLUSH_MS_MAX);
  } finally {
    governance.close();
  }
  return true;
}

async function flushWithin(governance: GovernanceSystem, boundMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    governance.alertManager.flush(),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, boundMs);
    }),
  ]);
  clearTimeout(timer);
}
