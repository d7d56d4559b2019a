/**
 * The shutdown fallback file: when the database cannot be written, the final state of a
 * SHUTDOWN goes to a small JSON file beside it, written and fsync'd (file and directory).
 * Startup honours it: a latch found there keeps governor in SHUTDOWN until an operator restart.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SHUTDOWN_TRIGGERS, type ShutdownLatch, type ShutdownTrigger } from '../machines/types.js';
import { fsyncDirectory, writeFileDurably } from './durable-file.js';

export interface FallbackRecord {
  readonly version: 1;
  readonly latch: ShutdownLatch;
  readonly lifecycleId: string;
  /** What could not be persisted, for the operator: the mode change and the alert. */
  readonly finalState: Readonly<Record<string, unknown>>;
}

/** The fallback path for a database path, or null for an in-memory database. */
export function fallbackPathFor(dbPath: string): string | null {
  if (dbPath === ':memory:' || dbPath === '') return null;
  return join(dirname(dbPath), `${basename(dbPath)}.shutdown.json`);
}

/** Writes the record durably: temp file, fsync, rename, fsync of the directory. */
export function writeFallbackRecord(path: string, record: FallbackRecord): void {
  writeFileDurably(path, `${JSON.stringify(record, null, 2)}\n`, 0o600);
}

/**
 * Reads the fallback record. A file that exists but cannot be parsed is still a latch:
 * in doubt, stay shut down (trigger UNRECOVERABLE_EXCEPTION, reason says why).
 */
export function readFallbackRecord(path: string | null): FallbackRecord | null {
  if (path === null || !existsSync(path)) return null;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<FallbackRecord>;
    const latch = parsed.latch;
    if (
      parsed.version === 1 &&
      latch !== undefined &&
      (SHUTDOWN_TRIGGERS as readonly string[]).includes(latch.trigger) &&
      typeof latch.reason === 'string' &&
      typeof latch.at === 'string'
    ) {
      return parsed as FallbackRecord;
    }
    throw new Error('unexpected structure');
  } catch (error) {
    const trigger: ShutdownTrigger = 'UNRECOVERABLE_EXCEPTION';
    return {
      version: 1,
      latch: {
        trigger,
        reason: `shutdown fallback file ${path} is unreadable (${(error as Error).message}); staying shut down`,
        at: new Date(0).toISOString(),
      },
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
