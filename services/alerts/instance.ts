/**
 * The governor's instance name, as receivers see it (Alertmanager's `instance` label, the
 * watchdog's): the host and the absolute path of the database. One database has one owner, so
 * the name is unique even when two governors share a host, and stable across restarts (a
 * resolve sent by the next process matches the alert the last one raised).
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

/** Receivers keep label values short; a longer name is shortened with a digest of the path. */
export const INSTANCE_CHARS_MAX = 256;

/**
 * `<host>:<absolute database path>`, e.g. `trader-1:/var/lib/governor/governor.db`; for
 * `:memory:` (no file, no restart to match) `<host>:memory:<pid>`. When longer than 256
 * characters, the path is replaced by the first 16 hex digits of its SHA-256.
 */
export function governorInstance(dbPath: string, host: string = hostname()): string {
  if (dbPath === ':memory:') return `${host}:memory:${process.pid}`;
  const path = resolve(dbPath);
  const name = `${host}:${path}`;
  if (name.length <= INSTANCE_CHARS_MAX) return name;
  const digest = createHash('sha256').update(path, 'utf8').digest('hex').slice(0, 16);
  return `${host.slice(0, INSTANCE_CHARS_MAX - digest.length - 1)}:${digest}`;
}
