/**
 * Starts the read-only health API (services/api, `startApiServer`) for the daemon, bound to the
 * configured host and port (127.0.0.1:8080 by default), or nothing when it is disabled.
 */
import { type ApiServer, startApiServer } from '../api/server.js';
import type { GovernanceSystem } from '../governor/governance-system.js';
import type { Logger } from '../logger.js';
import type { ApiConfig } from './config.js';

export type RunningApi = ApiServer;

/** Starts the API, or returns null when the configuration disables it. */
export async function startHealthApi(
  governance: GovernanceSystem,
  api: ApiConfig,
  logger: Logger,
): Promise<RunningApi | null> {
  if (!api.enabled) return null;
  return startApiServer({
    governance,
    logger,
    host: api.host,
    port: api.port,
    ...(api.bearerToken === null ? {} : { bearerToken: api.bearerToken }),
  });
}
