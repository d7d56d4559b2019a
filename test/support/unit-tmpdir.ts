/**
 * The unit project's temporary directory, one per run: under memory-backed /dev/shm (tmpfs) when
 * the box has one, so SQLite commits (synchronous=FULL) do not wait for a disk fsync, and removed
 * with everything in it when the run ends, so a test that leaves its files behind costs no memory
 * after the run. Directories of runs that were killed before their end are removed at the next.
 */
import { accessSync, constants, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MEMORY_BACKED = '/dev/shm';
/**
 * Short: a control socket lives at DIR/<test prefix>XXXXXX/.governor.db.control/governor.sock,
 * and a Unix socket path has at most 107 bytes (this keeps the longest under 100).
 */
const PREFIX = 'gu-';
/** A directory untouched this long, of a process that is gone, is an abandoned run's. */
const ABANDONED_AFTER_MS = 60 * 60 * 1000;

function memoryBacked(): boolean {
  try {
    accessSync(MEMORY_BACKED, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the directories of earlier runs that were killed before their teardown. */
function removeAbandoned(): void {
  for (const name of readdirSync(MEMORY_BACKED)) {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (match === null || isAlive(Number(match[1]))) continue;
    const path = join(MEMORY_BACKED, name);
    try {
      if (Date.now() - statSync(path).mtimeMs < ABANDONED_AFTER_MS) continue;
      rmSync(path, { recursive: true, force: true });
    } catch {
      // removed meanwhile, or not ours to remove: left as it is
    }
  }
}

export default function unitTmpdir(): (() => void) | undefined {
  if (!memoryBacked()) return undefined;
  removeAbandoned();
  const dir = mkdtempSync(join(MEMORY_BACKED, `${PREFIX}${process.pid}-`));
  const previous = process.env.TMPDIR;
  // The workers (and the processes the tests start) are forked after this and inherit it.
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
