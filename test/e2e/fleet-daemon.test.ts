/**
 * `governor run` under the fleet authority, as shipped (dist/), against a throwaway PostgreSQL
 * cluster started by the test:
 * - a daemon with `--authority URL --scope firm/desk-a` (its config file names another scope
 *   and the lease: the flags win key by key) reaches AGGRESSIVE; `governor shutdown --authority
 *   URL --scope firm/desk-a` by an operator granted that scope prints the host's confirmation and
 *   exits 0; the daemon is SHUTDOWN (OPERATOR_KILL), its gate closed;
 * - a second daemon's gate closes by itself when the whole PostgreSQL process tree is SIGSTOPped
 *   for longer than its lease (600 ms), with no message and no mode change (authorityLossMs is
 *   far away), and reopens once the tree runs again.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_ROLE, OPERATOR_ROLE } from '../../persistence/fleet/schema.js';
import { type PostgresCluster, startPostgres } from '../support/postgres.js';
import { CliSandbox, E2E_CONFIG_YAML, perTestResources } from './cli-harness.js';

const LEASE_MS = 600;
const { sandbox } = perTestResources();
let cluster: PostgresCluster;

async function sql(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: cluster.superuserUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  cluster = await startPostgres();
  for (const role of ['host_a', 'host_b']) await sql(`CREATE ROLE ${role} LOGIN`);
  await sql(`CREATE ROLE dana LOGIN`);
});

afterAll(() => cluster?.destroy());

/** A sandbox whose config file also holds an `authority` section. */
function fleetSandbox(authorityYaml: string): CliSandbox {
  const box = sandbox();
  box.writeConfig(`${E2E_CONFIG_YAML}${authorityYaml}`);
  return box;
}

describe('the daemon under --authority', () => {
  beforeAll(async () => {
    // The schema, the roles' grants, and dana's right to kill firm/desk-a, by the command line.
    const admin = new CliSandbox();
    try {
      const init = await admin.run(['fleet', 'init', '--authority', cluster.superuserUrl]);
      expect(init.code, init.stderr).toBe(0);
      await sql(`GRANT ${HOST_ROLE} TO host_a, host_b`);
      await sql(`GRANT ${OPERATOR_ROLE} TO dana`);
      const grant = await admin.run([
        'fleet',
        'grant',
        '--authority',
        cluster.superuserUrl,
        '--operator-role',
        'dana',
        '--scope',
        'firm/desk-a',
      ]);
      expect(grant.code, grant.stderr).toBe(0);
    } finally {
      await admin.cleanup();
    }
  });

  it('a fleet kill of its scope: the command prints the confirmation (exit 0), the daemon is SHUTDOWN (OPERATOR_KILL)', async () => {
    // The file names firm/desk-z and the lease; --scope replaces the scope, the lease stays.
    const box = fleetSandbox(`authority:
  url: ${cluster.urlFor('host_b')}
  scopes: [firm/desk-z]
  leaseMs: ${LEASE_MS}
  authorityLossMs: 60000
`);
    const daemon = box.startDaemon([
      '--demo',
      '--authority',
      cluster.urlFor('host_a'),
      '--scope',
      'firm/desk-a',
      '--fleet-host',
      'host-a',
    ]);
    await box.waitForStatus((s) => s.state === 'AGGRESSIVE' && s.canDeployCapital, daemon);
    const killed = await box.run([
      'shutdown',
      '--authority',
      cluster.urlFor('dana'),
      '--scope',
      'firm/desk-a',
      '--operator',
      'dana',
      '--reason',
      'INC-22: e2e fleet kill',
    ]);
    expect(killed.stderr).toBe('');
    expect(killed.code).toBe(0);
    expect(killed.stdout).toMatch(/^host-a: SHUTDOWN, \d+ ms$/m);
    expect(killed.stdout).toMatch(
      /fleet kill of firm\/desk-a committed at epoch 1 by dana: 1 of 1 hosts confirmed/,
    );
    const status = await box.status();
    expect(status).toMatchObject({
      running: true,
      source: 'live',
      state: 'SHUTDOWN',
      trigger: 'OPERATOR_KILL',
      canDeployCapital: false,
    });
    // The host registered as the flags said, with the file's lease.
    const fleet = await box.run([
      'fleet',
      'status',
      '--authority',
      cluster.urlFor('dana'),
      '--json',
    ]);
    expect(fleet.code, fleet.stderr).toBe(0);
    const hosts = (JSON.parse(fleet.stdout) as { hosts: Array<Record<string, unknown>> }).hosts;
    expect(hosts.find((h) => h.host === 'host-a')).toMatchObject({
      roleName: 'host_a',
      scopes: ['firm/desk-a'],
      leaseMs: LEASE_MS,
      state: 'SHUTDOWN',
    });
    expect(await box.stopDaemon(daemon)).toBe(0);
  });

  it('PostgreSQL frozen (whole tree) past the lease: the gate closes by itself, and reopens after', async () => {
    const box = sandbox();
    const daemon = box.startDaemon([
      '--demo',
      '--authority',
      cluster.urlFor('host_b'),
      '--scope',
      'firm/desk-b',
      '--fleet-host',
      'host-b',
      '--lease-ms',
      String(LEASE_MS),
      '--authority-loss-ms',
      '60000',
    ]);
    await box.waitForStatus((s) => s.state === 'AGGRESSIVE' && s.canDeployCapital, daemon);
    const frozenAt = performance.now();
    cluster.freeze();
    try {
      // Past the lease: no renewal can have been granted since the freeze.
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 100));
      const closed = await box.status();
      expect(closed.canDeployCapital).toBe(false);
      expect(closed.state).toBe('AGGRESSIVE');
      expect(closed).toMatchObject({
        reason: expect.stringMatching(/fleet authority lease ended/),
      });
      expect(performance.now() - frozenAt).toBeLessThan(60_000);
    } finally {
      cluster.thaw();
    }
    // The authority back well within authorityLossMs: the next renewal grants a lease again.
    await box.waitForStatus((s) => s.state === 'AGGRESSIVE' && s.canDeployCapital, daemon);
    expect(await box.stopDaemon(daemon)).toBe(0);
  });
});
