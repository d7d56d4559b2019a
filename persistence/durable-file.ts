/**
 * Durable, atomic small-file writes: write a temporary file, fsync it, rename it over the
 * target and fsync the directory, so a reader (or a restart after a crash) sees the old
 * content or the new one, never a torn file. Used for the shutdown fallback and the head anchor.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** fsyncs the directory holding `path`, so a rename in it survives a power loss. */
export function fsyncDirectory(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dirname(path), 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the renamed file itself is already durable.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Replaces `path` with `text` durably and atomically. */
export function writeFileDurably(path: string, text: string, mode: number): void {
  const temporaryPath = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporaryPath, 'w', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporaryPath, path);
  fsyncDirectory(path);
}
