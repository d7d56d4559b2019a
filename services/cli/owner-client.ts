/**
 * The command line's side of an operator request: refuses a database that does not exist (exit
 * 5), then records the request and waits for the owner, or acts as a temporary owner with the
 * configured alert sinks (services/governor/owner-client.ts).
 */
import { existsSync } from 'node:fs';
import {
  type OwnerRequest,
  type RequestOutcome,
  sendOwnerRequest as send,
} from '../governor/owner-client.js';
import type { DaemonConfig } from './config.js';
import { CliError, EXIT } from './exit-codes.js';

export type { OwnerRequest, RequestOutcome } from '../governor/owner-client.js';

export async function sendOwnerRequest(
  config: DaemonConfig,
  request: OwnerRequest,
  waitMs?: number,
): Promise<RequestOutcome> {
  if (!existsSync(config.dbPath)) {
    throw new CliError(
      EXIT.NOT_FOUND,
      `no governor database at ${config.dbPath} (use --db PATH or GOVERNOR_DB)`,
    );
  }
  return send(
    {
      dbPath: config.dbPath,
      thresholds: config.thresholds,
      desiredMode: config.desiredMode,
      createAlertSinks: async () =>
        (await import('./alerts-config.js')).createAlertSinks(config.alerts),
    },
    request,
    waitMs,
  );
}
