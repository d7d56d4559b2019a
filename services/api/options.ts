/**
 * The options of `startApiServer`, checked up front: a loopback host by default, and a bearer
 * token required (and then demanded of every request) before any other address may be bound.
 */
import { isIP } from 'node:net';
import { GovernorError } from '../errors.js';
import type { GovernanceSystem } from '../governor/governance-system.js';
import type { Logger } from '../logger.js';

export interface ApiServerOptions {
  /** The system whose health is served. Read only: the API never calls a method that acts. */
  readonly governance: GovernanceSystem;
  /** Address to bind (default 127.0.0.1). Anything but loopback requires `bearerToken`. */
  readonly host?: string;
  /** TCP port (default 0: a free one, reported in the returned URL). */
  readonly port?: number;
  /** When set, every request must carry `Authorization: Bearer <token>` (16–1024 token68 chars). */
  readonly bearerToken?: string;
  /** pino logger for request failures (default: silent). */
  readonly logger?: Logger;
}

export interface CheckedApiOptions {
  readonly governance: GovernanceSystem;
  readonly host: string;
  readonly port: number;
  readonly bearerToken: string | null;
}

export const BEARER_TOKEN_LENGTH_MIN = 16;
export const BEARER_TOKEN_LENGTH_MAX = 1_024;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** True for addresses only this machine can reach: localhost, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

function invalid(message: string, details: Record<string, unknown> = {}): never {
  throw new GovernorError('GOV_INVALID_CONFIG', `startApiServer: ${message}`, details);
}

export function checkApiOptions(options: ApiServerOptions): CheckedApiOptions {
  const governance = options?.governance;
  if (
    typeof governance?.getState !== 'function' ||
    typeof governance.openReadOnlyStore !== 'function'
  ) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      'startApiServer: Expected options.governance to be a GovernanceSystem',
    );
  }
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0 || host.length > 255) {
    invalid('Expected host to be a non-empty string of at most 255 characters', { key: 'host' });
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    invalid('Expected port to be an integer from 0 to 65535', {
      key: 'port',
      received: String(port),
    });
  }
  const token = options.bearerToken;
  if (token !== undefined) {
    if (
      typeof token !== 'string' ||
      token.length < BEARER_TOKEN_LENGTH_MIN ||
      token.length > BEARER_TOKEN_LENGTH_MAX ||
      !TOKEN68.test(token)
    ) {
      invalid(
        `Expected bearerToken to be ${BEARER_TOKEN_LENGTH_MIN} to ${BEARER_TOKEN_LENGTH_MAX} token68 characters (letters, digits, -._~+/ then =)`,
        { key: 'bearerToken' },
      );
    }
  }
  if (!isLoopbackHost(host) && token === undefined) {
    invalid(`binding ${host}, which is not a loopback address, requires a bearerToken`, {
      key: 'host',
      host,
    });
  }
  return { governance, host, port, bearerToken: token ?? null };
}
