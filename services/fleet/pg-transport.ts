/**
 * The lease's transport over PostgreSQL: one direct connection per host (session pooling at
 * most, never transaction pooling: LISTEN and the host's role live in the session), which checks
 * the schema, registers the host's row, LISTENs for kills and releases, renews and confirms.
 * After any reconnect the lease re-LISTENs and re-reads everything (a new connection does both).
 */
import type pg from 'pg';
import {
  authorityError,
  checkSchema,
  confirmEpoch,
  createClient,
  destroyClient,
  registerHost,
  renewLease,
} from '../../persistence/fleet/authority-db.js';
import type { AuthorityConnection, AuthorityTransport } from './lease.js';
import { obeyedScopes } from './scopes.js';

export interface PostgresTransportOptions {
  /** postgresql://... ; unset: the standard PG* variables (PGHOST, PGUSER, PGSSLMODE...). */
  readonly url?: string;
  readonly host: string;
  readonly scopes: readonly string[];
  readonly leaseMs: number;
  readonly connectTimeoutMs: number;
}

export function postgresTransport(options: PostgresTransportOptions): AuthorityTransport {
  const obeyed = obeyedScopes(options.scopes);
  return {
    async connect(handlers): Promise<AuthorityConnection> {
      const client: pg.Client = createClient({
        ...(options.url === undefined ? {} : { url: options.url }),
        connectTimeoutMs: options.connectTimeoutMs,
        applicationName: `governor-host:${options.host}`,
      });
      let closed = false;
      const close = (): void => {
        if (closed) return;
        closed = true;
        destroyClient(client);
      };
      client.on('error', (error) => {
        if (closed) return;
        close();
        handlers.onClosed(error);
      });
      client.on('end', () => {
        if (closed) return;
        closed = true;
        handlers.onClosed(new Error('connection ended'));
      });
      client.on('notification', (message) => handlers.onNotify(message.payload));
      try {
        await client.connect();
        await checkSchema(client);
        await registerHost(client, options.host, options.scopes, options.leaseMs);
      } catch (error) {
        close();
        throw authorityError(error, `fleet host ${options.host}`);
      }
      return {
        renew: (report) =>
          renewLease(client, options.host, options.leaseMs, report, obeyed).catch((error) => {
            throw authorityError(error, 'fleet renewal');
          }),
        confirm: (scope, epoch, state) =>
          confirmEpoch(client, options.host, scope, epoch, state).catch((error) => {
            throw authorityError(error, 'fleet confirmation');
          }),
        close,
      };
    },
  };
}
