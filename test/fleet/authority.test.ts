/**
 * The fleet authority against a real PostgreSQL started by the test: versioned migrations, the
 * roles' least privilege enforced by PostgreSQL (a host writes only its own row and may not kill;
 * only the operator role kills and releases; an epoch never falls, whoever tries), and the
 * commands: init, kill with each host's confirmation, release with each host's restart answer,
 * status.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../services/clock.js';
import { FleetLease } from '../../services/fleet/lease.js';
import {
  fleetInit,
  fleetKill,
  fleetRelease,
  fleetStatus,
  HOST_ROLE,
  OPERATOR_ROLE,
} from '../../services/fleet/operator.js';
import { postgresTransport } from '../../services/fleet/pg-transport.js';
import { silentLogger } from '../../services/logger.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { type PostgresCluster, startPostgres } from '../support/postgres.js';

let cluster: PostgresCluster;

async function sql(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  cluster = await startPostgres();
  await fleetInit({ url: cluster.superuserUrl });
  for (const host of ['host_1', 'host_2', 'host_3']) {
    await sql(cluster.superuserUrl, `CREATE ROLE ${host} LOGIN IN ROLE ${HOST_ROLE}`);
  }
  await sql(cluster.superuserUrl, `CREATE ROLE alice LOGIN IN ROLE ${OPERATOR_ROLE}`);
});

afterAll(() => cluster?.destroy());

/** A login role of the host group for each host (one host row per role). */
async function hostRole(host: string): Promise<string> {
  const role = `h_${host.replace(/[^a-z0-9]/g, '_')}`;
  await sql(
    cluster.superuserUrl,
    `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} LOGIN IN ROLE ${HOST_ROLE}; END IF; END $$`,
  );
  return role;
}

async function hostLease(host: string, scopes: string[], leaseMs = 600, role?: string) {
  const login = role ?? (await hostRole(host));
  const kills: string[] = [];
  let state = 'AGGRESSIVE';
  const lease = new FleetLease({
    transport: postgresTransport({
      url: cluster.urlFor(login),
      host,
      scopes,
      leaseMs,
      connectTimeoutMs: 1_000,
    }),
    clock: new SystemClock(),
    logger: silentLogger(),
    scopes,
    leaseMs,
    authorityLossMs: 10_000,
    holder: {
      report: () => ({
        state,
        gateOpen: state === 'AGGRESSIVE',
        restartCheck: state === 'SHUTDOWN' ? 'ready' : null,
      }),
      leaseChanged: () => {},
      killed: (kill) => {
        kills.push(`${kill.scope}@${kill.epoch}`);
        state = 'SHUTDOWN';
        lease.confirm(kill, state);
      },
      lost: () => {},
      regained: () => {},
      queueUsageHigh: () => {},
      epochsEstablished: () => {},
    },
  });
  const setState = (next: string): void => {
    state = next;
  };
  return { lease, kills, setState };
}

describe('fleet init', () => {
  it('applies its migrations once: a second init applies nothing', async () => {
    const again = await fleetInit({ url: cluster.superuserUrl });
    expect(again.applied).toEqual([]);
    const versions = await sql(
      cluster.superuserUrl,
      'SELECT version FROM governor_fleet.migrations',
    );
    expect(versions.rows.map((row) => row.version)).toEqual([1]);
  });

  it('governor fleet init and status through the command line', async () => {
    const init = await runCliInProcess(['fleet', 'init', '--authority', cluster.superuserUrl]);
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/nothing to apply/);
    const status = await runCliInProcess([
      'fleet',
      'status',
      '--authority',
      cluster.urlFor('alice'),
      '--json',
    ]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toHaveProperty('hosts');
  });

  it('refuses a database without the schema (exit 2), naming fleet init', async () => {
    await sql(cluster.superuserUrl, 'CREATE DATABASE empty_one');
    const url = cluster.superuserUrl.replace(/\/postgres$/, '/empty_one');
    const status = await runCliInProcess(['fleet', 'status', '--authority', url]);
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/fleet init/);
  });
});

describe('least privilege, enforced by PostgreSQL', () => {
  it('a host role may not kill or release, nor change a scope directly', async () => {
    const host = cluster.urlFor('host_1');
    await expect(
      fleetKill({ url: host, scope: 'firm', operator: 'mallory', reason: 'x', waitMs: 0 }),
    ).rejects.toMatchObject({ code: 'GOV_AUTHORITY_DENIED' });
    await expect(
      sql(host, "INSERT INTO governor_fleet.scopes VALUES ('firm', 'killed', 99, 'm', 'r', now())"),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(
      sql(host, "SELECT governor_fleet.release_scope('firm', 'm', 'r')"),
    ).rejects.toMatchObject({ code: '42501' });
  });

  it("a host writes only its own row: another host's row is neither updated nor taken over", async () => {
    const one = await hostLease('priv-1', ['firm/desk-p'], 600, 'host_1');
    await one.lease.establish();
    one.lease.stop();
    const updated = await sql(
      cluster.urlFor('host_2'),
      "UPDATE governor_fleet.hosts SET gate_open = true, state = 'AGGRESSIVE' WHERE host = 'priv-1'",
    );
    expect(updated.rowCount).toBe(0);
    await expect(
      sql(
        cluster.urlFor('host_2'),
        "INSERT INTO governor_fleet.hosts (host, role_name, scopes, lease_ms) VALUES ('x', 'host_1', '{firm}', 1000)",
      ),
    ).rejects.toMatchObject({ code: '42501' });
    // Registering under a name another role owns: refused, no lease.
    const impostor = await hostLease('priv-1', ['firm/desk-p'], 600, 'host_2');
    await expect(impostor.lease.establish()).rejects.toMatchObject({
      code: 'GOV_AUTHORITY_DENIED',
    });
    impostor.lease.stop();
  });

  it('an epoch only grows, even for the database owner', async () => {
    await fleetKill({
      url: cluster.urlFor('alice'),
      scope: 'firm/desk-e',
      operator: 'alice',
      reason: 'drill',
      waitMs: 0,
    });
    await expect(
      sql(
        cluster.superuserUrl,
        "UPDATE governor_fleet.scopes SET epoch = 0 WHERE scope = 'firm/desk-e'",
      ),
    ).rejects.toThrow(/only grows/);
    await expect(
      sql(cluster.superuserUrl, "DELETE FROM governor_fleet.scopes WHERE scope = 'firm/desk-e'"),
    ).rejects.toThrow(/never deleted/);
  });
});

describe('kill, confirmations, release', () => {
  it('a kill lands on every host under the scope (not on a sibling), each confirmation printed', async () => {
    const a = await hostLease('kill-a', ['firm/desk-k/strategy-x']);
    const b = await hostLease('kill-b', ['firm/desk-k']);
    const c = await hostLease('kill-c', ['firm/desk-other']);
    for (const h of [a, b, c]) await h.lease.establish();
    const killed = await runCliInProcess([
      'shutdown',
      '--authority',
      cluster.urlFor('alice'),
      '--scope',
      'firm/desk-k',
      '--operator',
      'alice',
      '--reason',
      'INC-1: drill',
    ]);
    expect(killed.stderr).toBe('');
    expect(killed.code).toBe(0);
    expect(killed.stdout).toMatch(/kill-a: SHUTDOWN, \d+ ms/);
    expect(killed.stdout).toMatch(/kill-b: SHUTDOWN, \d+ ms/);
    expect(killed.stdout).not.toMatch(/kill-c/);
    expect(killed.stdout).toMatch(/2 of 2 hosts confirmed/);
    expect(a.kills).toEqual(['firm/desk-k@1']);
    expect(c.kills).toEqual([]);
    expect(a.lease.held()).toBe(false);
    expect(c.lease.held()).toBe(true);

    // The release: each host says what its local restart would do.
    a.setState('SHUTDOWN');
    const released = await fleetRelease({
      url: cluster.urlFor('alice'),
      scope: 'firm/desk-k',
      operator: 'alice',
      reason: 'INC-1 over',
    });
    expect(released.released).toEqual([{ scope: 'firm/desk-k', epoch: 2 }]);
    expect(released.hosts.map((h) => [h.host, h.outcome]).sort()).toEqual([
      ['kill-a', 'ready'],
      ['kill-b', 'ready'],
    ]);
    // A release does not resume anything: the lease stays fenced until the host's checks run.
    expect(a.lease.held()).toBe(false);
    await a.lease.establish();
    expect(a.lease.held()).toBe(true);

    const status = await fleetStatus({ url: cluster.urlFor('alice') });
    expect(status.scopes.find((s) => s.scope === 'firm/desk-k')).toMatchObject({
      state: 'open',
      epoch: 2,
    });
    expect(
      status.hosts.find((h) => h.host === 'kill-a')?.confirmations['firm/desk-k'],
    ).toMatchObject({ epoch: 1, state: 'SHUTDOWN' });
    for (const h of [a, b, c]) h.lease.stop();
  });

  it('names the hosts that did not confirm by their lease end (exit 7)', async () => {
    const gone = await hostLease('gone-1', ['firm/desk-g'], 300);
    await gone.lease.establish();
    gone.lease.stop();
    const killed = await runCliInProcess([
      'shutdown',
      '--authority',
      cluster.urlFor('alice'),
      '--scope',
      'firm/desk-g',
      '--operator',
      'alice',
      '--reason',
      'drill',
    ]);
    expect(killed.code).toBe(7);
    expect(killed.stderr).toMatch(/gone-1: NOT CONFIRMED/);
  });

  it('a release of nothing killed is refused (exit 2)', async () => {
    const released = await runCliInProcess([
      'fleet',
      'release',
      '--authority',
      cluster.urlFor('alice'),
      '--scope',
      'firm/nothing-here',
      '--operator',
      'alice',
      '--reason',
      'x',
    ]);
    expect(released.code).toBe(2);
  });

  it('a wider kill stays in force when a narrower scope is released', async () => {
    const operator = { url: cluster.urlFor('alice'), operator: 'alice', reason: 'r', waitMs: 0 };
    await fleetKill({ ...operator, scope: 'wide' });
    await fleetKill({ ...operator, scope: 'wide/narrow' });
    const released = await fleetRelease({ ...operator, scope: 'wide/narrow' });
    expect(released.stillKilled).toEqual(['wide']);
    const host = await hostLease('wide-1', ['wide/narrow/x']);
    await expect(host.lease.establish()).rejects.toMatchObject({ code: 'GOV_SCOPE_KILLED' });
    host.lease.stop();
  });
});
