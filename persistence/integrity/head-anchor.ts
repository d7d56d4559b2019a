/**
 * The head anchor: after each verification, the verified head of the event log `{ seq, hash,
 * at }` is written to `<db>.head.json` beside the database (temp file, fsync, atomic rename,
 * fsync of the directory). A later verification compares the chain against it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { GovernorError } from '../../services/errors.js';
import { writeFileDurably } from '../durable-file.js';
import { sideFilePath } from '../side-files.js';

export interface HeadAnchor {
  readonly seq: number;
  /** SHA-256 hex of the event at `seq`. */
  readonly hash: string;
  /** ISO-8601 wall time of the verification that wrote it. */
  readonly at: string;
}

const HASH_PATTERN = /^[0-9a-f]{64}$/;
const ANCHOR_FILE_BYTES_MAX = 4096;

/** The anchor path for a database path, or null for an in-memory database. */
export function headAnchorPathFor(dbPath: string): string | null {
  return sideFilePath(dbPath, HEAD_ANCHOR_SUFFIX);
}

export const HEAD_ANCHOR_SUFFIX = '.head.json';

export function isHeadHash(value: unknown): value is string {
  return typeof value === 'string' && HASH_PATTERN.test(value);
}

/**
 * Reads the anchor: null when there is none; GOV_CORRUPT_RECORD when the file exists but is not
 * an anchor (a damaged anchor is itself a finding: the verifier reports it).
 */
export function readHeadAnchor(path: string | null): HeadAnchor | null {
  if (path === null || !existsSync(path)) return null;
  const corrupt = (why: string): GovernorError =>
    new GovernorError('GOV_CORRUPT_RECORD', `head anchor ${path} is damaged: ${why}`, {
      table: 'head-anchor',
      key: path,
    });
  if (statSync(path).size > ANCHOR_FILE_BYTES_MAX) throw corrupt('larger than 4 KiB');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw corrupt('not JSON');
  }
  const anchor = parsed as Partial<HeadAnchor> | null;
  if (
    typeof anchor !== 'object' ||
    anchor === null ||
    !Number.isSafeInteger(anchor.seq) ||
    (anchor.seq ?? 0) < 1 ||
    !isHeadHash(anchor.hash) ||
    typeof anchor.at !== 'string'
  ) {
    throw corrupt('expected { seq ≥ 1, hash: 64 hex digits, at }');
  }
  return { seq: anchor.seq as number, hash: anchor.hash, at: anchor.at };
}

/** Writes the anchor durably and atomically: a reader sees the old anchor or the new one. */
export function writeHeadAnchor(path: string, anchor: HeadAnchor): void {
  writeFileDurably(
    path,
    `${JSON.stringify({ seq: anchor.seq, hash: anchor.hash, at: anchor.at })}\n`,
    0o644,
  );
}
