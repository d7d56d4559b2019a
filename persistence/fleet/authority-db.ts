/**
 * The fleet authority's statements over one PostgreSQL connection (npm `pg`): connect with
 * bounded timeouts, apply the migrations, register a host, renew its lease (one round trip that
 * writes its row and reads its scopes' epochs), confirm a kill, kill and release a scope, grant
 * and revoke an operator's scopes, and read every scope, host and grant. Errors come back as the
 * catalogue's GOV_AUTHORITY_* codes.
 */
import pg from 'pg';
import { GovernorError } from '../../services/errors.js';
import {
  CONFIRM_CHANNEL,
  FLEET_CHANNEL,
  FLEET_MIGRATIONS,
  FLEET_SCHEMA,
  FLEET_SCHEMA_VERSION,
} from './schema.js';

export type ScopeState = 'open' | 'killed';

export interface ScopeRecord {
  readonly scope: string;
  readonly state: ScopeState;
  readonly epoch: number;
  readonly changedBy: string;
  readonly reason: string;
  readonly changedAt: string;
}

export interface HostConfirmation {
  readonly epoch: number;
  readonly state: string;
  readonly at: string;
}

export interface HostRecord {
  readonly host: string;
  readonly roleName: string;
  readonly scopes: readonly string[];
  readonly leaseMs: number;
  readonly lastRenewalAt: string | null;
  readonly leaseExpiresAt: string | null;
  readonly state: string | null;
  readonly gateOpen: boolean;
  readonly epochs: Readonly<Record<string, number>>;
  readonly confirmations: Readonly<Record<string, HostConfirmation>>;
  readonly restartCheck: string | null;
}

/** What a host writes into its row at each renewal. */
export interface HostReport {
  readonly state: string;
  readonly gateOpen: boolean;
  readonly epochs: Readonly<Record<string, number>>;
  readonly restartCheck: string | null;
}

export interface RenewalAnswer {
  /** The rows of the scopes asked for (a scope without a row is open at epoch 0). */
  readonly scopes: readonly ScopeRecord[];
  /** False when this host's row is gone or not this role's: no lease is granted. */
  readonly hostRowWritten: boolean;
  /** pg_notification_queue_usage(): 0..1 of the server's NOTIFY queue in use. */
  readonly notificationQueueUsage: number;
}

export interface ConnectOptions {
  /** A connection string (postgresql://...); unset: the standard PG* variables. */
  readonly url?: string;
  readonly connectTimeoutMs: number;
  readonly applicationName: string;
}

/** A client with bounded connection set-up and TCP keep-alive (PG* variables and sslmode apply). */
export function createClient(options: ConnectOptions): pg.Client {
  return new pg.Client({
    ...(options.url === undefined ? {} : { connectionString: options.url }),
    connectionTimeoutMillis: options.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 1000,
    application_name: options.applicationName,
  });
}

/** Destroys the client's socket at once (an `end()` waits for a server that may be frozen). */
export function destroyClient(client: pg.Client): void {
  const connection = (client as unknown as { connection?: { stream?: { destroy(): void } } })
    .connection;
  try {
    connection?.stream?.destroy();
  } catch {
    // already gone
  }
  client.end().catch(() => {});
}

/** The catalogue's error for a failure of PostgreSQL or of the connection. */
export function authorityError(error: unknown, doing: string): GovernorError {
  if (error instanceof GovernorError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const hint = (error as { hint?: unknown } | null)?.hint;
  const message =
    (error instanceof Error ? error.message : String(error)) +
    (typeof hint === 'string' && hint !== '' ? ` (${hint})` : '');
  if (code === '42501' || code === '23505') {
    return new GovernorError('GOV_AUTHORITY_DENIED', `${doing}: PostgreSQL refused: ${message}`);
  }
  if (code === '3F000' || code === '42P01') {
    return new GovernorError(
      'GOV_AUTHORITY_SCHEMA',
      `${doing}: the fleet schema is missing (run governor fleet init --authority URL): ${message}`,
    );
  }
  if (code === '22023' || code === '23514') {
    return new GovernorError('GOV_INVALID_ARGUMENT', `${doing}: ${message}`);
  }
  return new GovernorError('GOV_AUTHORITY_UNREACHABLE', `${doing}: ${message}`);
}

/**
 * Applies the migrations not yet applied, in one transaction under an advisory lock (two inits at
 * once apply them once). Returns the versions applied now.
 */
export async function migrate(client: pg.Client): Promise<number[]> {
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('governor_fleet_migrate'))");
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${FLEET_SCHEMA}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${FLEET_SCHEMA}.migrations (
         version integer PRIMARY KEY, description text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = await client.query<{ version: number }>(
      `SELECT version FROM ${FLEET_SCHEMA}.migrations`,
    );
    const applied = new Set(done.rows.map((row) => Number(row.version)));
    const newest = Math.max(0, ...applied);
    if (newest > FLEET_SCHEMA_VERSION) {
      throw new GovernorError(
        'GOV_AUTHORITY_SCHEMA',
        `the fleet schema is at version ${newest}, newer than this governor knows (${FLEET_SCHEMA_VERSION}): upgrade governor`,
      );
    }
    const now: number[] = [];
    for (const migration of FLEET_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(
        `INSERT INTO ${FLEET_SCHEMA}.migrations (version, description) VALUES ($1, $2)`,
        [migration.version, migration.description],
      );
      now.push(migration.version);
    }
    await client.query('COMMIT');
    return now;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw authorityError(error, 'fleet init');
  }
}

/** The schema version in the database; refuses a database without one or with a newer one. */
export async function checkSchema(client: pg.Client): Promise<number> {
  let version: number;
  try {
    const result = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${FLEET_SCHEMA}.migrations`,
    );
    version = Number(result.rows[0]?.version ?? 0);
  } catch (error) {
    throw authorityError(error, 'fleet schema');
  }
  if (version < 1 || version > FLEET_SCHEMA_VERSION) {
    throw new GovernorError(
      'GOV_AUTHORITY_SCHEMA',
      version < 1
        ? 'the fleet schema is not initialised: run governor fleet init --authority URL'
        : `the fleet schema is at version ${version}, newer than this governor knows (${FLEET_SCHEMA_VERSION})`,
    );
  }
  return version;
}

/** Registers (or re-registers) this host's row under the connected role; LISTENs for kills. */
export async function registerHost(
  client: pg.Client,
  host: string,
  scopes: readonly string[],
  leaseMs: number,
): Promise<void> {
  await client.query(
    `INSERT INTO ${FLEET_SCHEMA}.hosts AS h (host, scopes, lease_ms, state, gate_open)
     VALUES ($1, $2::text[], $3, 'STARTING', false)
     ON CONFLICT (host) DO UPDATE SET scopes = EXCLUDED.scopes, lease_ms = EXCLUDED.lease_ms`,
    [host, scopes, leaseMs],
  );
  await client.query(`LISTEN ${FLEET_CHANNEL}`);
}

interface RenewalRow {
  renewed: string | number;
  scopes: unknown;
  queue_usage: number | string;
}

/**
 * The renewal's round trip: writes this host's row (its report) and reads the given scopes'
 * rows in the same statement. The lease it grants counts from when it was sent (the caller's
 * monotonic clock), never from the database's time.
 */
export async function renewLease(
  client: pg.Client,
  host: string,
  leaseMs: number,
  report: HostReport,
  scopes: readonly string[],
): Promise<RenewalAnswer> {
  const result = await client.query<RenewalRow>(
    `WITH renewed AS (
       UPDATE ${FLEET_SCHEMA}.hosts
          SET last_renewal_at = now(), lease_expires_at = now() + $3 * interval '1 millisecond',
              lease_ms = $3, state = $4, gate_open = $5, epochs = $6::jsonb, restart_check = $7,
              updated_at = now()
        WHERE host = $1 RETURNING 1)
     SELECT (SELECT count(*) FROM renewed) AS renewed,
            coalesce((SELECT json_agg(json_build_object('scope', s.scope, 'state', s.state,
                        'epoch', s.epoch, 'changedBy', s.changed_by, 'reason', s.reason,
                        'changedAt', s.changed_at))
                        FROM ${FLEET_SCHEMA}.scopes s WHERE s.scope = ANY($2::text[])), '[]'::json)
              AS scopes,
            pg_notification_queue_usage() AS queue_usage`,
    [
      host,
      scopes,
      leaseMs,
      report.state,
      report.gateOpen,
      JSON.stringify(report.epochs),
      report.restartCheck,
    ],
  );
  const row = result.rows[0];
  return {
    scopes: scopeRecords(row?.scopes),
    hostRowWritten: Number(row?.renewed ?? 0) === 1,
    notificationQueueUsage: Number(row?.queue_usage ?? 0),
  };
}

/** Writes this host's confirmation of a scope's epoch and notifies the kill command. */
export async function confirmEpoch(
  client: pg.Client,
  host: string,
  scope: string,
  epoch: number,
  state: string,
): Promise<void> {
  await client.query(
    `WITH confirmed AS (
       UPDATE ${FLEET_SCHEMA}.hosts
          SET confirmations = confirmations || jsonb_build_object($2::text,
                jsonb_build_object('epoch', $3::bigint, 'state', $4::text, 'at', now())),
              state = $4, gate_open = false, updated_at = now()
        WHERE host = $1 RETURNING host)
     SELECT pg_notify('${CONFIRM_CHANNEL}', host) FROM confirmed`,
    [host, scope, epoch, state],
  );
}

/** The kill: one committed transaction (the function) raising the epoch; returns the epoch. */
export async function killScope(
  client: pg.Client,
  scope: string,
  operator: string,
  reason: string,
): Promise<number> {
  try {
    const result = await client.query<{ epoch: string }>(
      `SELECT ${FLEET_SCHEMA}.kill_scope($1, $2, $3) AS epoch`,
      [scope, operator, reason],
    );
    return Number(result.rows[0]?.epoch);
  } catch (error) {
    throw authorityError(error, 'fleet kill');
  }
}

/** Releases a scope and the killed scopes under it; returns each released scope's new epoch. */
export async function releaseScope(
  client: pg.Client,
  scope: string,
  operator: string,
  reason: string,
): Promise<{ scope: string; epoch: number }[]> {
  try {
    const result = await client.query<{ scope: string; epoch: string }>(
      `SELECT scope, epoch FROM ${FLEET_SCHEMA}.release_scope($1, $2, $3)`,
      [scope, operator, reason],
    );
    return result.rows.map((row) => ({ scope: row.scope, epoch: Number(row.epoch) }));
  } catch (error) {
    throw authorityError(error, 'fleet release');
  }
}

/**
 * An operator grant: the role (and every role that is a member of it) may kill and release the
 * scope and every scope under it.
 */
export interface OperatorGrant {
  readonly roleName: string;
  readonly scope: string;
  readonly grantedBy: string;
  readonly grantedAt: string;
}

/**
 * Grants `role` the operator rights on `scope` (the schema owner's action: other roles are refused
 * by PostgreSQL). Returns false when the grant was already there.
 */
export async function grantOperatorScope(
  client: pg.Client,
  role: string,
  scope: string,
): Promise<boolean> {
  try {
    const result = await client.query<{ granted: boolean }>(
      `SELECT ${FLEET_SCHEMA}.grant_operator_scope($1, $2) AS granted`,
      [role, scope],
    );
    return result.rows[0]?.granted === true;
  } catch (error) {
    throw authorityError(error, 'fleet grant');
  }
}

/** Revokes one grant; false when there was none (a wider grant the role holds stays). */
export async function revokeOperatorScope(
  client: pg.Client,
  role: string,
  scope: string,
): Promise<boolean> {
  try {
    const result = await client.query<{ revoked: boolean }>(
      `SELECT ${FLEET_SCHEMA}.revoke_operator_scope($1, $2) AS revoked`,
      [role, scope],
    );
    return result.rows[0]?.revoked === true;
  } catch (error) {
    throw authorityError(error, 'fleet revoke');
  }
}

/** Every operator grant, by role then scope. */
export async function readOperatorGrants(client: pg.Client): Promise<OperatorGrant[]> {
  try {
    const result = await client.query<{
      role_name: string;
      scope: string;
      granted_by: string;
      granted_at: Date;
    }>(
      `SELECT role_name, scope, granted_by, granted_at FROM ${FLEET_SCHEMA}.operator_scopes
        ORDER BY role_name, scope`,
    );
    return result.rows.map((row) => ({
      roleName: row.role_name,
      scope: row.scope,
      grantedBy: row.granted_by,
      grantedAt: new Date(row.granted_at).toISOString(),
    }));
  } catch (error) {
    throw authorityError(error, 'fleet grants');
  }
}

/** The login role of this connection (the role a grant must cover). */
export async function sessionRole(client: pg.Client): Promise<string> {
  const result = await client.query<{ role: string }>('SELECT session_user AS role');
  return String(result.rows[0]?.role);
}

export interface FleetSnapshot {
  readonly scopes: readonly ScopeRecord[];
  readonly hosts: readonly HostRecord[];
  readonly notificationQueueUsage: number;
}

/** Every scope and every host, read in one statement (one snapshot). */
export async function readFleet(client: pg.Client): Promise<FleetSnapshot> {
  try {
    const result = await client.query<{ scopes: unknown; hosts: unknown; queue_usage: number }>(
      `SELECT coalesce((SELECT json_agg(json_build_object('scope', s.scope, 'state', s.state,
                 'epoch', s.epoch, 'changedBy', s.changed_by, 'reason', s.reason,
                 'changedAt', s.changed_at) ORDER BY s.scope) FROM ${FLEET_SCHEMA}.scopes s),
                 '[]'::json) AS scopes,
              coalesce((SELECT json_agg(json_build_object('host', h.host, 'roleName', h.role_name,
                 'scopes', h.scopes, 'leaseMs', h.lease_ms, 'lastRenewalAt', h.last_renewal_at,
                 'leaseExpiresAt', h.lease_expires_at, 'state', h.state, 'gateOpen', h.gate_open,
                 'epochs', h.epochs, 'confirmations', h.confirmations,
                 'restartCheck', h.restart_check) ORDER BY h.host) FROM ${FLEET_SCHEMA}.hosts h),
                 '[]'::json) AS hosts,
              pg_notification_queue_usage() AS queue_usage`,
    );
    const row = result.rows[0];
    return {
      scopes: scopeRecords(row?.scopes),
      hosts: Array.isArray(row?.hosts) ? (row.hosts as HostRecord[]).map(hostRecord) : [],
      notificationQueueUsage: Number(row?.queue_usage ?? 0),
    };
  } catch (error) {
    throw authorityError(error, 'fleet status');
  }
}

function scopeRecords(value: unknown): ScopeRecord[] {
  if (!Array.isArray(value)) return [];
  return value.map((raw: Record<string, unknown>) => ({
    scope: String(raw.scope),
    state: raw.state === 'killed' ? 'killed' : 'open',
    epoch: Number(raw.epoch),
    changedBy: String(raw.changedBy ?? ''),
    reason: String(raw.reason ?? ''),
    changedAt: String(raw.changedAt ?? ''),
  }));
}

function hostRecord(raw: HostRecord): HostRecord {
  const epochs: Record<string, number> = {};
  for (const [scope, epoch] of Object.entries(raw.epochs ?? {})) epochs[scope] = Number(epoch);
  const confirmations: Record<string, HostConfirmation> = {};
  for (const [scope, value] of Object.entries(raw.confirmations ?? {})) {
    confirmations[scope] = { epoch: Number(value.epoch), state: value.state, at: value.at };
  }
  return { ...raw, leaseMs: Number(raw.leaseMs), epochs, confirmations };
}
