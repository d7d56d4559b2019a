/**
 * The fleet authority against a real PostgreSQL started by the test: versioned migrations, the
 * roles' least privilege enforced by PostgreSQL (a host writes only its own row and may not kill;
 * only the operator role kills and releases, and only in the scopes granted to its login role or
 * a group it is in; an epoch never falls, whoever tries), and the commands: init, grant and
 * revoke, kill with each host's confirmation, release with each host's restart answer, status.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../services/clock.js';
import { FleetLease } from '../../services/fleet/lease.js';
import {
  fleetGrant,
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
  for (const scope of ['firm', 'wide']) {
    await fleetGrant({ url: cluster.superuserUrl, operatorRole: 'alice', scope });
  }
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
      epochsSeen: () => {},
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
    expect(versions.rows.map((row) => row.version).sort()).toEqual([1, 2]);
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
    // What to do for its venues without a dead man's switch, which a frozen or dead host cannot cancel.
    expect(killed.stderr).toMatch(
      /governor venues flat --config FILE with that host's configuration/,
    );
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

describe('operator rights per scope, enforced by PostgreSQL', () => {
  /** The scope's epoch and the number of audit rows about it: what a refused action must not change. */
  async function written(scope: string): Promise<{ epoch: number | null; actions: number }> {
    const epoch = await sql(
      cluster.superuserUrl,
      'SELECT epoch FROM governor_fleet.scopes WHERE scope = $1',
      [scope],
    );
    const actions = await sql(
      cluster.superuserUrl,
      'SELECT count(*)::int AS n FROM governor_fleet.scope_actions WHERE scope = $1',
      [scope],
    );
    return {
      epoch: epoch.rows[0] === undefined ? null : Number(epoch.rows[0].epoch),
      actions: Number(actions.rows[0]?.n),
    };
  }

  beforeAll(async () => {
    await sql(cluster.superuserUrl, `CREATE ROLE bob LOGIN IN ROLE ${OPERATOR_ROLE}`);
    const granted = await runCliInProcess([
      'fleet',
      'grant',
      '--authority',
      cluster.superuserUrl,
      '--operator-role',
      'bob',
      '--scope',
      'firm/desk-a',
    ]);
    expect(granted.stderr).toBe('');
    expect(granted.code).toBe(0);
    expect(granted.stdout).toMatch(/granted bob the operator rights on firm\/desk-a/);
    // Known scopes at known epochs, killed and released by alice (who holds firm).
    const alice = { url: cluster.urlFor('alice'), operator: 'alice', reason: 'setup', waitMs: 0 };
    for (const scope of ['firm/desk-b', 'firm']) {
      await fleetKill({ ...alice, scope });
      await fleetRelease({ ...alice, scope });
    }
  });

  it('an operator granted firm/desk-a kills and releases firm/desk-a/strategy-x and firm/desk-a', async () => {
    const bob = { url: cluster.urlFor('bob'), operator: 'bob', reason: 'INC-7', waitMs: 0 };
    const narrow = await fleetKill({ ...bob, scope: 'firm/desk-a/strategy-x' });
    expect(narrow.epoch).toBe(1);
    const desk = await fleetKill({ ...bob, scope: 'firm/desk-a' });
    expect(desk.epoch).toBe(1);
    const released = await fleetRelease({ ...bob, scope: 'firm/desk-a' });
    expect(released.released.map((r) => r.scope).sort()).toEqual([
      'firm/desk-a',
      'firm/desk-a/strategy-x',
    ]);
    const audit = await sql(
      cluster.superuserUrl,
      "SELECT action, role_name FROM governor_fleet.scope_actions WHERE scope = 'firm/desk-a' ORDER BY id",
    );
    expect(audit.rows).toEqual([
      { action: 'KILL', role_name: 'bob' },
      { action: 'RELEASE', role_name: 'bob' },
    ]);
  });

  it('a grant covers the scope and its descendants by whole path segments', async () => {
    const holds = await sql(
      cluster.superuserUrl,
      'SELECT s, governor_fleet.holds_scope($1, s) AS holds FROM unnest($2::text[]) AS s',
      [
        'bob',
        ['firm/desk-a', 'firm/desk-a/strategy-x/leg-1', 'firm', 'firm/desk-b', 'firm/desk-ab'],
      ],
    );
    expect(Object.fromEntries(holds.rows.map((row) => [row.s, row.holds]))).toEqual({
      'firm/desk-a': true,
      'firm/desk-a/strategy-x/leg-1': true,
      firm: false,
      'firm/desk-b': false,
      'firm/desk-ab': false,
    });
  });

  it('is refused on a sibling (firm/desk-b) and on the wider firm: a clear error, nothing written', async () => {
    const before = { deskB: await written('firm/desk-b'), firm: await written('firm') };
    expect(before.deskB.epoch).toBe(2);
    expect(before.firm.epoch).toBe(2);
    for (const scope of ['firm/desk-b', 'firm']) {
      const killed = await runCliInProcess([
        'shutdown',
        '--authority',
        cluster.urlFor('bob'),
        '--scope',
        scope,
        '--operator',
        'bob',
        '--reason',
        'not mine',
      ]);
      expect(killed.code).toBe(2);
      expect(killed.stdout).toBe('');
      expect(killed.stderr).toContain(
        `role bob holds no operator grant on scope ${scope} or a wider one: the kill was refused, nothing changed`,
      );
      expect(killed.stderr).toContain(`--operator-role bob --scope ${scope}`);
    }
    // A killed scope bob does not hold is not his to release either.
    await fleetKill({
      url: cluster.urlFor('alice'),
      operator: 'alice',
      reason: 'r',
      waitMs: 0,
      scope: 'firm/desk-b',
    });
    await expect(
      fleetRelease({
        url: cluster.urlFor('bob'),
        operator: 'bob',
        reason: 'x',
        scope: 'firm/desk-b',
      }),
    ).rejects.toMatchObject({
      code: 'GOV_AUTHORITY_DENIED',
      message: expect.stringMatching(/the release was refused, nothing changed/),
    });
    expect(await written('firm')).toEqual(before.firm);
    expect(await written('firm/desk-b')).toEqual({
      epoch: 3,
      actions: before.deskB.actions + 1,
    });
    await fleetRelease({
      url: cluster.urlFor('alice'),
      operator: 'alice',
      reason: 'r',
      scope: 'firm/desk-b',
    });
  });

  it('a grant to a group role covers its members; revoke withdraws it', async () => {
    await sql(cluster.superuserUrl, 'CREATE ROLE desk_c_operators NOLOGIN');
    await sql(
      cluster.superuserUrl,
      `CREATE ROLE carol LOGIN IN ROLE ${OPERATOR_ROLE}, desk_c_operators`,
    );
    await fleetGrant({
      url: cluster.superuserUrl,
      operatorRole: 'desk_c_operators',
      scope: 'firm/desk-c',
    });
    const carol = { url: cluster.urlFor('carol'), operator: 'carol', reason: 'r', waitMs: 0 };
    expect((await fleetKill({ ...carol, scope: 'firm/desk-c/x' })).epoch).toBe(1);
    const revoked = await runCliInProcess([
      'fleet',
      'revoke',
      '--authority',
      cluster.superuserUrl,
      '--operator-role',
      'desk_c_operators',
      '--scope',
      'firm/desk-c',
    ]);
    expect(revoked.code).toBe(0);
    await expect(fleetKill({ ...carol, scope: 'firm/desk-c/x' })).rejects.toMatchObject({
      code: 'GOV_AUTHORITY_DENIED',
    });
    const again = await runCliInProcess([
      'fleet',
      'revoke',
      '--authority',
      cluster.superuserUrl,
      '--operator-role',
      'desk_c_operators',
      '--scope',
      'firm/desk-c',
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/holds no grant of firm\/desk-c/);
  });

  it('only the schema owner grants: an operator cannot grant itself a wider scope, nor a role that does not exist', async () => {
    await expect(
      fleetGrant({ url: cluster.urlFor('bob'), operatorRole: 'bob', scope: 'firm' }),
    ).rejects.toMatchObject({ code: 'GOV_AUTHORITY_DENIED' });
    await expect(
      sql(
        cluster.urlFor('bob'),
        "INSERT INTO governor_fleet.operator_scopes (role_name, scope) VALUES ('bob', 'firm')",
      ),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(
      fleetGrant({ url: cluster.superuserUrl, operatorRole: 'nobody_here', scope: 'firm' }),
    ).rejects.toMatchObject({
      code: 'GOV_INVALID_ARGUMENT',
      message: expect.stringMatching(/no role nobody_here/),
    });
    const status = await fleetStatus({ url: cluster.urlFor('bob') });
    expect(status.grants.filter((g) => g.roleName === 'bob').map((g) => g.scope)).toEqual([
      'firm/desk-a',
    ]);
    const changes = await sql(
      cluster.superuserUrl,
      "SELECT action, scope, changed_by FROM governor_fleet.operator_scope_changes WHERE role_name = 'desk_c_operators' ORDER BY id",
    );
    expect(changes.rows).toEqual([
      { action: 'GRANT', scope: 'firm/desk-c', changed_by: 'postgres' },
      { action: 'REVOKE', scope: 'firm/desk-c', changed_by: 'postgres' },
    ]);
  });

  it('fleet init --scope grants the role running it (the bootstrap); a superuser holds nothing by itself', async () => {
    await expect(
      fleetKill({
        url: cluster.superuserUrl,
        operator: 'root',
        reason: 'r',
        waitMs: 0,
        scope: 'boot',
      }),
    ).rejects.toMatchObject({ code: 'GOV_AUTHORITY_DENIED' });
    const init = await runCliInProcess([
      'fleet',
      'init',
      '--authority',
      cluster.superuserUrl,
      '--scope',
      'boot',
    ]);
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/operator grants of postgres: boot/);
    const killed = await fleetKill({
      url: cluster.superuserUrl,
      operator: 'root',
      reason: 'r',
      waitMs: 0,
      scope: 'boot/x',
    });
    expect(killed.epoch).toBe(1);
  });
});
