/**
 * The chain walk across cores: the seq range (after, toSeq] is split into one chunk per worker
 * thread, each worker walks its chunk on its own read-only connection (chain-worker-entry.ts),
 * and the segments are joined here in order, so the event loop only receives messages.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { GovernorError } from '../../services/errors.js';
import { BUSY_TIMEOUT_MS_DEFAULT } from '../connection.js';
import type { ChainProgress } from './chain-in-thread.js';
import {
  type ChainRules,
  type ChainSegment,
  type ChainWalk,
  joinSegments,
  type ScanPosition,
  stateAfter,
} from './chain-walk.js';
import type { ChunkMessage, ChunkRequest } from './chain-worker-entry.js';

export interface WorkerWalkOptions extends ChainRules {
  readonly dbPath: string;
  /** The walk starts after this position (null: from seq 1). */
  readonly after: ScanPosition | null;
  /** The head seq read when the verification began: later rows wait for the next run. */
  readonly toSeq: number;
  readonly workers: number;
  readonly onProgress?: ChainProgress | undefined;
  /** Aborting terminates the workers and rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** The first worker also counts the rows up to `toSeq` (see ChunkRequest.countRows). */
  readonly countRows?: boolean;
}

/** A walk in workers, with the row count when it was asked for (`countRows`). */
export interface WorkerWalk extends ChainWalk {
  readonly rowsUpTo?: number;
}

/** Post progress about every 16 pages per worker. */
const PROGRESS_EVERY_ROWS = 16 * 1024;

/** Worker threads a walk may use: the cores this process may run on, at most `max`. */
export function workerCount(max: number): number {
  return Math.max(0, Math.min(availableParallelism(), max));
}

/** (afterSeq, toSeq] as `parts` contiguous chunks of nearly equal length, in order. */
export function splitRange(
  afterSeq: number,
  toSeq: number,
  parts: number,
): Array<{ readonly afterSeq: number; readonly toSeq: number }> {
  const rows = toSeq - afterSeq;
  if (rows <= 0) return [{ afterSeq, toSeq: afterSeq }];
  const size = Math.ceil(rows / Math.max(1, Math.min(parts, rows)));
  const chunks: Array<{ afterSeq: number; toSeq: number }> = [];
  for (let from = afterSeq; from < toSeq; from += size) {
    chunks.push({ afterSeq: from, toSeq: Math.min(toSeq, from + size) });
  }
  return chunks;
}

/**
 * Starts a chunk's worker. Compiled (`dist/`), the entry is the sibling `.js` file. Run from the
 * TypeScript sources (tsx, vitest), a worker does not inherit the parent's loader, so a small
 * bootstrap registers tsx (a development dependency) in the worker, then imports the entry.
 */
function startWorker(request: ChunkRequest): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) {
    return new Worker(new URL('./chain-worker-entry.js', self), { workerData: request });
  }
  const entry = new URL('./chain-worker-entry.ts', self).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: request });
}

function chunkFailure(message: Extract<ChunkMessage, { type: 'failed' }>): Error {
  if (message.sqliteCode === null) return new Error(`integrity worker: ${message.message}`);
  return new GovernorError(
    'GOV_STORAGE_FAILURE',
    `integrity.walkChain failed: ${message.message}`,
    { operation: 'integrity.walkChain', sqliteCode: message.sqliteCode },
  );
}

/** Walks (after, toSeq] in worker threads; the result equals the in-thread walk's. */
export async function walkChainInWorkers(options: WorkerWalkOptions): Promise<WorkerWalk> {
  options.signal?.throwIfAborted();
  const afterSeq = options.after?.seq ?? 0;
  const chunks = splitRange(afterSeq, options.toSeq, options.workers);
  const rules: ChainRules = {
    futureLimitIso: options.futureLimitIso,
    backwardsToleranceMs: options.backwardsToleranceMs,
    findingsMax: options.findingsMax,
    ...(options.timestamps === undefined ? {} : { timestamps: options.timestamps }),
  };
  const workers: Worker[] = [];
  const checkedBy = chunks.map(() => 0);
  const total = Math.max(0, options.toSeq - afterSeq);
  const report = (): void => {
    const checked = checkedBy.reduce((sum, value) => sum + value, 0);
    options.onProgress?.(checked, Math.max(total, checked));
  };
  let onAbort: (() => void) | undefined;
  let rowsUpTo: number | null = null;
  try {
    const segments = await new Promise<ChainSegment[]>((resolve, reject) => {
      const results: Array<ChainSegment | undefined> = chunks.map(() => undefined);
      let done = 0;
      onAbort = () => reject(options.signal?.reason);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      for (const [index, chunk] of chunks.entries()) {
        const worker = startWorker({
          dbPath: options.dbPath,
          afterSeq: chunk.afterSeq,
          toSeq: chunk.toSeq,
          rules,
          busyTimeoutMs: BUSY_TIMEOUT_MS_DEFAULT,
          progressEveryRows: PROGRESS_EVERY_ROWS,
          ...(options.countRows === true && index === 0 ? { countRowsUpTo: options.toSeq } : {}),
        });
        workers.push(worker);
        worker.on('message', (message: ChunkMessage) => {
          if (message.type === 'failed') {
            reject(chunkFailure(message));
          } else if (message.type === 'progress') {
            checkedBy[index] = message.checked;
            report();
          } else {
            results[index] = message.segment;
            if (message.rowsUpTo !== null) rowsUpTo = message.rowsUpTo;
            checkedBy[index] = message.segment.checked;
            report();
            done++;
            if (done === chunks.length) resolve(results as ChainSegment[]);
          }
        });
        worker.on('error', reject);
        worker.on('exit', (code) => {
          // Messages posted before the exit arrive first; give them one turn to be sure.
          setImmediate(() => {
            if (results[index] === undefined) {
              reject(new Error(`integrity worker exited (code ${code}) without a result`));
            }
          });
        });
      }
    });
    const walk = joinSegments(stateAfter(options.after), segments, rules);
    return rowsUpTo === null ? walk : { ...walk, rowsUpTo };
  } finally {
    if (onAbort !== undefined) options.signal?.removeEventListener('abort', onAbort);
    for (const worker of workers) void worker.terminate();
  }
}
