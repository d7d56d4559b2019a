/**
 * The fallback file: when the database cannot be written, what a restart must not forget goes
 * to a small JSON file beside it, written and fsync'd (file and directory): the final state of
 * a SHUTDOWN (its latch), and a failure's OBSERVE_ONLY (its hold). Startup honours both: a latch
 * found there keeps governor in SHUTDOWN until an operator restart, a hold in OBSERVE_ONLY until
 * an operator resume.
 */

import { existsSync, readFileSync, renameSync } from 'node:fs';
import {
  isHeldCause,
  type SafeModeHold,
  SHUTDOWN_TRIGGERS,
  type ShutdownLatch,
  type ShutdownTrigger,
} from '../machines/types.js';
import { fsyncDirectory, writeFileDurably } from '../persistence/durable-file.js';
import { sideFilePath } from '../persistence/side-files.js';
import { describeError } from './errors.js';

export interface FallbackRecord {
  readonly version: 2;
  /** The SHUTDOWN latch the database could not take, or null. */
  readonly latch: ShutdownLatch | null;
  /** The failure held (OBSERVE_ONLY) the database could not take, or null. */
  readonly hold: SafeModeHold | null;
  readonly lifecycleId: string;
  /** What could not be persisted, for the operator: the mode change and the alert. */
  readonly finalState: Readonly<Record<string, unknown>>;
}

/** The fallback path for a database path, or null for an in-memory database. */
export function fallbackPathFor(dbPath: string): string | null {
  return sideFilePath(dbPath, FALLBACK_SUFFIX);
}

export const FALLBACK_SUFFIX = '.shutdown.json';

/** Writes the record durably: temp file, fsync, rename, fsync of the directory. */
export function writeFallbackRecord(path: string, record: FallbackRecord): void {
  writeFileDurably(path, `${JSON.stringify(record, null, 2)}\n`, 0o600);
}

function isLatch(value: unknown): value is ShutdownLatch {
  const latch = value as Partial<ShutdownLatch> | null;
  return (
    typeof latch === 'object' &&
    latch !== null &&
    (SHUTDOWN_TRIGGERS as readonly string[]).includes(latch.trigger ?? '') &&
    typeof latch.reason === 'string' &&
    typeof latch.at === 'string'
  );
}

function isHold(value: unknown): value is SafeModeHold {
  const hold = value as Partial<SafeModeHold> | null;
  return (
    typeof hold === 'object' &&
    hold !== null &&
    isHeldCause(hold.cause ?? null) &&
    typeof hold.reason === 'string' &&
    typeof hold.at === 'string'
  );
}

/**
 * Reads the fallback record (version 1, a latch; or version 2, a latch and/or a hold). A file
 * that exists but cannot be parsed is still a latch: in doubt, stay shut down (trigger
 * UNRECOVERABLE_EXCEPTION, reason says why).
 */
export function readFallbackRecord(path: string | null): FallbackRecord | null {
  if (path === null || !existsSync(path)) return null;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const latch = parsed.latch ?? null;
    const hold = parsed.hold ?? null;
    const finalState = (parsed.finalState ?? {}) as Record<string, unknown>;
    const lifecycleId = typeof parsed.lifecycleId === 'string' ? parsed.lifecycleId : 'unknown';
    if (parsed.version === 1 && isLatch(latch)) {
      return { version: 2, latch, hold: null, lifecycleId, finalState };
    }
    if (
      parsed.version === 2 &&
      (latch === null || isLatch(latch)) &&
      (hold === null || isHold(hold)) &&
      (latch !== null || hold !== null)
    ) {
      return { version: 2, latch, hold, lifecycleId, finalState };
    }
    throw new Error('unexpected structure');
  } catch (error) {
    const trigger: ShutdownTrigger = 'UNRECOVERABLE_EXCEPTION';
    return {
      version: 2,
      latch: {
        trigger,
        reason: `shutdown fallback file ${path} is unreadable (${describeError(error)}); staying shut down`,
        at: new Date(0).toISOString(),
      },
      hold: null,
      lifecycleId: 'unknown',
      finalState: {},
    };
  }
}

/** Moves the file aside once an operator restart has cleared the latch (kept for the audit). */
export function retireFallbackRecord(path: string | null, stamp: string): void {
  if (path === null || !existsSync(path)) return;
  renameSync(path, `${path}.cleared-${stamp.replace(/[:.]/g, '-')}`);
  fsyncDirectory(path);
}

/**
 * An operator's resume cleared the hold: the record keeps its latch (if any), or is retired.
 */
export function clearFallbackHold(path: string | null, stamp: string): void {
  const record = readFallbackRecord(path);
  if (path === null || record === null || record.hold === null) return;
  if (record.latch === null) retireFallbackRecord(path, stamp);
  else writeFallbackRecord(path, { ...record, hold: null });
}
