/**
 * The fleet's operator actions over PostgreSQL: init (migrations, roles, grants), the operator
 * grants per scope (grant, revoke: which role may kill and release where), kill (one
 * committed transaction, then each host's confirmation as it arrives, and the hosts that did not
 * confirm by their lease's end), release (then each host's answer to "would a restart pass?")
 * and status (every scope and host). Lines for people go to `progress`; the results are returned.
 */
import type pg from 'pg';
import {
  checkSchema,
  createClient,
  destroyClient,
  type FleetSnapshot,
  grantOperatorScope,
  type HostRecord,
  killScope,
  migrate,
  type OperatorGrant,
  readFleet,
  readOperatorGrants,
  releaseScope,
  revokeOperatorScope,
  sessionRole,
} from '../../persistence/fleet/authority-db.js';
import {
  CONFIRM_CHANNEL,
  FLEET_SCHEMA_VERSION,
  HOST_ROLE,
  OPERATOR_ROLE,
} from '../../persistence/fleet/schema.js';
import { GovernorError } from '../errors.js';
import { checkOperatorRequest } from '../operator.js';
import { checkScope, covers } from './scopes.js';

export type {
  FleetSnapshot,
  HostRecord,
  OperatorGrant,
  ScopeRecord,
} from '../../persistence/fleet/authority-db.js';
export { HOST_ROLE, OPERATOR_ROLE } from '../../persistence/fleet/schema.js';

export interface AuthorityTarget {
  /** postgresql://... ; unset: the PG* variables. */
  readonly url?: string;
  readonly connectTimeoutMs?: number;
}

const CONNECT_TIMEOUT_MS_DEFAULT = 5_000;
/** How often the kill and release commands re-read the hosts besides waiting for NOTIFY. */
const POLL_MS = 50;
/** The longest the kill or release command waits for hosts (their lease, at most this). */
const WAIT_MS_MAX = 120_000;

async function withClient<T>(
  target: AuthorityTarget,
  name: string,
  body: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = createClient({
    ...(target.url === undefined ? {} : { url: target.url }),
    connectTimeoutMs: target.connectTimeoutMs ?? CONNECT_TIMEOUT_MS_DEFAULT,
    applicationName: `governor-${name}`,
  });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    destroyClient(client);
    const { authorityError } = await import('../../persistence/fleet/authority-db.js');
    throw authorityError(error, `fleet ${name}`);
  }
  try {
    return await body(client);
  } finally {
    await client.end().catch(() => destroyClient(client));
  }
}

export interface InitResult {
  readonly applied: readonly number[];
  readonly version: number;
  readonly roles: { readonly host: string; readonly operator: string };
  /** The login role that ran the init, and the scopes it was granted now (`--scope`). */
  readonly initRole: string;
  readonly granted: readonly string[];
}

/**
 * Creates or migrates the schema (versioned), the group roles and their grants. Idempotent. With
 * `scopes`, grants the role running it the operator rights on each (the bootstrap: the root
 * scopes, e.g. `firm`), so that role can kill and release and nobody else until it grants more.
 */
export function fleetInit(
  target: AuthorityTarget & { readonly scopes?: readonly string[] },
): Promise<InitResult> {
  const scopes = (target.scopes ?? []).map((scope) => checkScope(scope));
  return withClient(target, 'init', async (client) => {
    const applied = await migrate(client);
    const initRole = await sessionRole(client);
    const granted: string[] = [];
    for (const scope of scopes) {
      if (await grantOperatorScope(client, initRole, scope)) granted.push(scope);
    }
    return {
      applied,
      version: FLEET_SCHEMA_VERSION,
      roles: { host: HOST_ROLE, operator: OPERATOR_ROLE },
      initRole,
      granted,
    };
  });
}

export interface FleetStatus extends FleetSnapshot {
  readonly grants: readonly OperatorGrant[];
}

export function fleetStatus(target: AuthorityTarget): Promise<FleetStatus> {
  return withClient(target, 'status', async (client) => {
    await checkSchema(client);
    const snapshot = await readFleet(client);
    return { ...snapshot, grants: await readOperatorGrants(client) };
  });
}

export interface GrantOptions extends AuthorityTarget {
  /** The PostgreSQL role: a login role, or a group role whose members all hold the grant. */
  readonly operatorRole: string;
  readonly scope: string;
}

export interface GrantResult {
  readonly operatorRole: string;
  readonly scope: string;
  /** False when there was nothing to change (already granted; nothing to revoke). */
  readonly changed: boolean;
  /** The role's grants after the change. */
  readonly grants: readonly OperatorGrant[];
}

const ROLE_NAME = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;

function checkRoleName(value: string): string {
  if (!ROLE_NAME.test(value)) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      `--operator-role: expected a PostgreSQL role name (letters, digits, '_', '$', '-'; at most 63), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Grants a role the operator rights (kill and release) on a scope and every scope under it. The
 * schema owner's action: PostgreSQL refuses it to the operator and host roles.
 */
export function fleetGrant(options: GrantOptions): Promise<GrantResult> {
  const role = checkRoleName(options.operatorRole);
  const scope = checkScope(options.scope);
  return withClient(options, 'grant', async (client) => {
    await checkSchema(client);
    const changed = await grantOperatorScope(client, role, scope);
    const grants = (await readOperatorGrants(client)).filter((g) => g.roleName === role);
    return { operatorRole: role, scope, changed, grants };
  });
}

/** Revokes one grant (the schema owner's action); a wider grant the role holds stays in force. */
export function fleetRevoke(options: GrantOptions): Promise<GrantResult> {
  const role = checkRoleName(options.operatorRole);
  const scope = checkScope(options.scope);
  return withClient(options, 'revoke', async (client) => {
    await checkSchema(client);
    const changed = await revokeOperatorScope(client, role, scope);
    const grants = (await readOperatorGrants(client)).filter((g) => g.roleName === role);
    return { operatorRole: role, scope, changed, grants };
  });
}

export interface HostOutcome {
  readonly host: string;
  readonly outcome: 'confirmed' | 'not-confirmed' | 'ready' | 'refused' | 'not-reporting';
  readonly state: string | null;
  /** Commit to confirmation, on the database's clock (one clock: no skew). */
  readonly latencyMs: number | null;
  readonly detail: string | null;
}

export interface KillResult {
  readonly scope: string;
  readonly epoch: number;
  readonly hosts: readonly HostOutcome[];
  readonly waitedMs: number;
}

interface FleetActionOptions extends AuthorityTarget {
  readonly scope: string;
  readonly operator: string;
  readonly reason: string;
  /** How long to wait for hosts (default: the longest lease among them). */
  readonly waitMs?: number;
  readonly progress?: (outcome: HostOutcome) => void;
}

/** The hosts a kill or release of `scope` reaches. */
function hostsUnder(snapshot: FleetSnapshot, scope: string): HostRecord[] {
  return snapshot.hosts.filter((host) => host.scopes.some((own) => covers(scope, own)));
}

/**
 * Waits for `done` to hold for every host (re-reading on each NOTIFY and every POLL_MS), calling
 * `settle` once per host as it does; stops at `waitMs`.
 */
async function waitForHosts(
  client: pg.Client,
  waitMs: number,
  hosts: readonly string[],
  settle: (host: HostRecord) => boolean,
): Promise<number> {
  const startedAt = performance.now();
  const pending = new Set(hosts);
  let wake: (() => void) | null = null;
  const onNotify = (): void => wake?.();
  client.on('notification', onNotify);
  try {
    while (pending.size > 0) {
      const snapshot = await readFleet(client);
      for (const host of snapshot.hosts) {
        if (pending.has(host.host) && settle(host)) pending.delete(host.host);
      }
      const left = waitMs - (performance.now() - startedAt);
      if (pending.size === 0 || left <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(POLL_MS, left));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    client.off('notification', onNotify);
  }
  return performance.now() - startedAt;
}

function waitBound(options: FleetActionOptions, hosts: readonly HostRecord[]): number {
  const lease = Math.max(0, ...hosts.map((host) => host.leaseMs));
  return Math.min(WAIT_MS_MAX, options.waitMs ?? lease);
}

/**
 * Waits for the hosts as `waitForHosts` does, and gives each host's outcome once, in the order
 * they arrive (each told to `progress` as it does): `settled` when its report is in (null while
 * not), `missing` for a host that had not reported when the wait ended.
 */
async function hostOutcomes(
  client: pg.Client,
  waitMs: number,
  hosts: readonly HostRecord[],
  progress: ((outcome: HostOutcome) => void) | undefined,
  settled: (host: HostRecord) => HostOutcome | null,
  missing: (host: HostRecord, waitedMs: number) => HostOutcome,
): Promise<{ outcomes: HostOutcome[]; waitedMs: number }> {
  const outcomes = new Map<string, HostOutcome>();
  const record = (outcome: HostOutcome): void => {
    outcomes.set(outcome.host, outcome);
    progress?.(outcome);
  };
  const waitedMs = await waitForHosts(
    client,
    waitMs,
    hosts.map((host) => host.host),
    (host) => {
      const outcome = settled(host);
      if (outcome !== null) record(outcome);
      return outcome !== null;
    },
  );
  for (const host of hosts) {
    if (!outcomes.has(host.host)) record(missing(host, waitedMs));
  }
  return { outcomes: [...outcomes.values()], waitedMs };
}

/**
 * The fleet kill: commits the kill of `scope` (its epoch raised, NOTIFY sent), then reports each
 * host under it as its confirmation arrives, and the hosts that did not confirm within the
 * longest lease among them (their gates are closed by their lease's end anyway).
 */
export function fleetKill(options: FleetActionOptions): Promise<KillResult> {
  const scope = checkScope(options.scope);
  const request = checkOperatorRequest(
    { operator: options.operator, reason: options.reason },
    'shutdown',
  );
  return withClient(options, 'kill', async (client) => {
    await checkSchema(client);
    await client.query(`LISTEN ${CONFIRM_CHANNEL}`);
    const epoch = await killScope(client, scope, request.operator, request.reason);
    const snapshot = await readFleet(client);
    const committedAt = Date.parse(
      snapshot.scopes.find((row) => row.scope === scope)?.changedAt ?? '',
    );
    const hosts = hostsUnder(snapshot, scope);
    const { outcomes, waitedMs } = await hostOutcomes(
      client,
      waitBound(options, hosts),
      hosts,
      options.progress,
      (host) => {
        const confirmation = host.confirmations[scope];
        if (confirmation === undefined || confirmation.epoch < epoch) return null;
        return {
          host: host.host,
          outcome: 'confirmed',
          state: confirmation.state,
          latencyMs: Number.isFinite(committedAt)
            ? Math.max(0, Date.parse(confirmation.at) - committedAt)
            : null,
          detail: null,
        };
      },
      (host, waited) => ({
        host: host.host,
        outcome: 'not-confirmed',
        state: host.state,
        latencyMs: null,
        detail: `no confirmation within ${Math.round(waited)} ms (last renewal ${host.lastRenewalAt ?? 'never'})`,
      }),
    );
    return { scope, epoch, hosts: outcomes, waitedMs };
  });
}

export interface ReleaseResult {
  readonly scope: string;
  readonly released: readonly { scope: string; epoch: number }[];
  /** A wider scope still killed: the hosts under it stay closed. */
  readonly stillKilled: readonly string[];
  readonly hosts: readonly HostOutcome[];
}

/**
 * The fleet release of `scope` (and of every killed scope under it): each epoch rises again; no
 * host trades by it. Then reports, per host, what its own pre-flight says a local `governor
 * restart` would do (ready, or refused and why), as the hosts report it at their next renewals.
 */
export function fleetRelease(options: FleetActionOptions): Promise<ReleaseResult> {
  const scope = checkScope(options.scope);
  const request = checkOperatorRequest(
    { operator: options.operator, reason: options.reason },
    'release',
  );
  return withClient(options, 'release', async (client) => {
    await checkSchema(client);
    await client.query(`LISTEN ${CONFIRM_CHANNEL}`);
    const released = await releaseScope(client, scope, request.operator, request.reason);
    const snapshot = await readFleet(client);
    const stillKilled = snapshot.scopes
      .filter((row) => row.state === 'killed' && covers(row.scope, scope) && row.scope !== scope)
      .map((row) => row.scope);
    const hosts = hostsUnder(snapshot, scope);
    const epochs = new Map(released.map((entry) => [entry.scope, entry.epoch]));
    // A host has seen the release once the epochs it reports reach the released ones.
    const seen = (host: HostRecord): boolean =>
      [...epochs].every(([s, epoch]) => !(s in host.epochs) || (host.epochs[s] ?? 0) >= epoch);
    const { outcomes } = await hostOutcomes(
      client,
      released.length === 0 ? 0 : waitBound(options, hosts),
      hosts,
      options.progress,
      (host) => {
        if (!seen(host)) return null;
        const check = host.restartCheck;
        return {
          host: host.host,
          outcome: check === null || check === 'ready' ? 'ready' : 'refused',
          state: host.state,
          latencyMs: null,
          detail: check,
        };
      },
      (host) => ({
        host: host.host,
        outcome: 'not-reporting',
        state: host.state,
        latencyMs: null,
        detail: `has not reported since the release (last renewal ${host.lastRenewalAt ?? 'never'})`,
      }),
    );
    return { scope, released, stillKilled, hosts: outcomes };
  });
}
