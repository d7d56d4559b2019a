/**
 * Starts the read-only health API (services/api, `startApiServer`) for the daemon. It is loaded
 * at run time so that the command still works, without the API, in a build that lacks it.
 */
import type { GovernanceSystem } from '../governor.js';
import type { Logger } from '../logger.js';
import type { ApiConfig } from './config.js';

export interface RunningApi {
  readonly url: string;
  close(): Promise<void> | void;
}

type StartApiServer = (options: {
  governance: GovernanceSystem;
  logger: Logger;
  host: string;
  port: number;
  bearerToken?: string;
}) => Promise<RunningApi> | RunningApi;

const API_MODULES = ['../api/server.js', '../api/index.js'];

async function loadStartApiServer(): Promise<StartApiServer | null> {
  for (const specifier of API_MODULES) {
    let loaded: unknown;
    try {
      loaded = await import(specifier);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_MODULE_NOT_FOUND') continue;
      throw error;
    }
    const start = (loaded as { startApiServer?: unknown }).startApiServer;
    if (typeof start === 'function') return start as StartApiServer;
  }
  return null;
}

/** Starts the API, or returns null when it is disabled or not part of this build. */
export async function startHealthApi(
  governance: GovernanceSystem,
  api: ApiConfig,
  logger: Logger,
): Promise<RunningApi | null> {
  if (!api.enabled) return null;
  const start = await loadStartApiServer();
  if (start === null) return null;
  return start({
    governance,
    logger,
    host: api.host,
    port: api.port,
    ...(api.bearerToken === null ? {} : { bearerToken: api.bearerToken }),
  });
}
