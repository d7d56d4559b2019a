/**
 * What `governor run` needs besides a valid configuration, checked before it opens the database
 * or starts anything: a database directory that exists, a control socket path the kernel
 * accepts, and (run only) a health API port that is free. Each problem is a GOV_INVALID_CONFIG
 * naming the key, so the daemon exits 2 before any capital could be deployed.
 */
import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { GovernorError } from '../errors.js';
import type { DaemonConfig } from './config.js';
import { defaultSocketPath, SOCKET_PATH_BYTES_MAX } from './control-channel.js';

function invalid(key: string, message: string): never {
  throw new GovernorError('GOV_INVALID_CONFIG', `${key}: ${message}`, { key });
}

/** The database's directory exists, and the control socket path is short enough. */
export function checkDaemonPaths(config: DaemonConfig): void {
  const directory = dirname(resolve(config.dbPath));
  let isDirectory = false;
  try {
    isDirectory = statSync(directory).isDirectory();
  } catch {
    // missing: reported below
  }
  if (!isDirectory) invalid('db', `the directory ${directory} does not exist`);
  const socketPath = config.controlSocket ?? defaultSocketPath(config.dbPath);
  if (Buffer.byteLength(socketPath) > SOCKET_PATH_BYTES_MAX) {
    invalid(
      'controlSocket',
      `the control socket path ${socketPath} is longer than ${SOCKET_PATH_BYTES_MAX} bytes; set a shorter controlSocket (--socket, GOVERNOR_CONTROL_SOCKET)`,
    );
  }
}

/**
 * Binds the health API's address for a moment and lets it go: a port another process holds
 * (EADDRINUSE) or may not be bound (EACCES) is refused before the database is opened. The real
 * bind can still lose a race; `run` then stops the same way.
 */
export async function checkApiPortFree(config: DaemonConfig): Promise<void> {
  const { api } = config;
  if (!api.enabled || api.port === 0) return;
  await new Promise<void>((resolvePromise, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => reject(apiBindError(config, error)));
    probe.listen({ host: api.host, port: api.port, exclusive: true }, () => {
      probe.close(() => resolvePromise());
    });
  });
}

/** The error `run` reports when the health API cannot listen: exit 2, naming the key. */
export function apiBindError(config: DaemonConfig, error: NodeJS.ErrnoException): GovernorError {
  const { host, port } = config.api;
  const why =
    error.code === 'EADDRINUSE'
      ? 'the address is in use (another governor, or another program)'
      : error.code === 'EACCES'
        ? 'permission denied'
        : error.code === 'EADDRNOTAVAIL'
          ? 'the address is not on this host'
          : (error.code ?? error.message);
  return new GovernorError(
    'GOV_INVALID_CONFIG',
    `api.port: the health API cannot listen on ${host}:${port}: ${why} (${error.code ?? 'error'}); choose another api.port (--api-port), or --no-api; nothing was started`,
    { key: 'api.port' },
  );
}
