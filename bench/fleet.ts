/**
 * Benchmark: the fleet authority on a real PostgreSQL (a throwaway cluster, as the tests start
 * it). In one run: (1) a bare NOTIFY round trip to 5 listening connections (the baseline);
 * (2) kill committed → all 5 gates closed, over 5 governors with the `authority` option (in this
 * process, each with its own SQLite file and connection; the gates are polled on every turn of
 * the event loop), each trial released and the governors restarted; (3) PostgreSQL's whole
 * process tree frozen → all 5 gates closed, against leaseMs; (4) 200 simulated hosts (leases
 * without a governor) on one PostgreSQL: kill → all 200 fenced, and the database's load from
 * renewals (transactions per second, CPU of its processes); (5) canDeployCapital() with a lease
 * against the same governor without one. Run: npm run bench:fleet (BENCH_TRIALS, default 100).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SystemClock } from '../services/clock.js';
import { FleetLease } from '../services/fleet/lease.js';
import { fleetInit, HOST_ROLE, OPERATOR_ROLE } from '../services/fleet/operator.js';
import { postgresTransport } from '../services/fleet/pg-transport.js';
import { GovernanceSystem } from '../services/governor/governance-system.js';
import { silentLogger } from '../services/logger.js';
import { startPostgres } from '../test/support/postgres.js';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 100);
const LEASE_MS = 3_000;
const SIMULATED_HOSTS = Number(process.env.BENCH_SIMULATED_HOSTS ?? 200);
const SIMULATED_TRIALS = 20;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}
const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function until(condition: () => boolean, boundMs: number, what: string): Promise<void> {
  const end = performance.now() + boundMs;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await turn();
  }
}

const cluster = await startPostgres();
const dir = mkdtempSync(join(tmpdir(), 'governor-bench-fleet-'));
const lines: string[] = [];
const report = (line: string): void => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};
try {
  await fleetInit({ url: cluster.superuserUrl });
  const admin = new pg.Client({ connectionString: cluster.superuserUrl });
  await admin.connect();
  await admin.query(`CREATE ROLE op LOGIN IN ROLE ${OPERATOR_ROLE}`);
  await admin.query("SELECT governor_fleet.grant_operator_scope('op', 'firm')");
  await admin.query("SELECT governor_fleet.grant_operator_scope('op', 'sim')");
  for (let i = 0; i < 5 + SIMULATED_HOSTS; i++) {
    await admin.query(`CREATE ROLE h${i} LOGIN IN ROLE ${HOST_ROLE}`);
  }
  const operator = new pg.Client({ connectionString: cluster.urlFor('op') });
  await operator.connect();

  // (1) The baseline: a bare NOTIFY to 5 listeners.
  const listeners: pg.Client[] = [];
  for (let i = 0; i < 5; i++) {
    const client = new pg.Client({ connectionString: cluster.superuserUrl });
    await client.connect();
    await client.query('LISTEN bench');
    listeners.push(client);
  }
  const notifyMs: number[] = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    let heard = 0;
    const onNotify = (): void => {
      heard += 1;
    };
    for (const client of listeners) client.on('notification', onNotify);
    const start = performance.now();
    await admin.query("SELECT pg_notify('bench', 'x')");
    await until(() => heard === 5, 5_000, 'the notifications');
    notifyMs.push(performance.now() - start);
    for (const client of listeners) client.off('notification', onNotify);
  }
  for (const client of listeners) await client.end();

  // (2) Kill committed → all 5 gates closed.
  const governors: GovernanceSystem[] = [];
  for (let i = 0; i < 5; i++) {
    governors.push(
      new GovernanceSystem({
        dbPath: join(dir, `host-${i}.db`),
        authority: {
          url: cluster.urlFor(`h${i}`),
          host: `host-${i}`,
          scopes: ['firm/desk-a/strategy-x'],
          leaseMs: LEASE_MS,
        },
      }),
    );
  }
  const fresh = setInterval(() => {
    for (const gov of governors) {
      gov.healthMonitor.updateMarketDataTimestamp();
      gov.healthMonitor.updateSnapshotWriteTimestamp();
    }
  }, 100);
  await Promise.all(governors.map((gov) => gov.runStartupChecks()));
  const killMs: number[] = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    await until(() => governors.every((gov) => gov.canDeployCapital()), 20_000, 'open gates');
    await sleep(Math.random() * (LEASE_MS / 3));
    const start = performance.now();
    const kill = operator.query("SELECT governor_fleet.kill_scope('firm/desk-a', 'bench', 'kill')");
    await until(() => governors.every((gov) => !gov.canDeployCapital()), 10_000, 'closed gates');
    killMs.push(performance.now() - start);
    await kill;
    await until(() => governors.every((gov) => gov.getState() === 'SHUTDOWN'), 10_000, 'SHUTDOWN');
    await operator.query(
      "SELECT * FROM governor_fleet.release_scope('firm/desk-a', 'bench', 'over')",
    );
    for (const gov of governors) {
      gov.operatorRestart({ operator: 'bench', reason: 'next trial' }, { force: true });
    }
    await Promise.all(governors.map((gov) => gov.runStartupChecks()));
  }

  // (5) The gate's cost with a lease against the same code without one.
  const plain = new GovernanceSystem({ dbPath: join(dir, 'plain.db') });
  await plain.runStartupChecks();
  const gateNs = (gov: GovernanceSystem): number => {
    const rounds = 500_000;
    let open = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) if (gov.canDeployCapital()) open += 1;
    const ns = Number(process.hrtime.bigint() - start) / rounds;
    if (open === 0) throw new Error('bench: the gate was closed');
    return ns;
  };
  const leased = governors[0] as GovernanceSystem;
  await until(() => leased.canDeployCapital(), 20_000, 'the leased gate open');
  report(
    `bare NOTIFY → 5 listeners: p50 ${fmt(percentile(notifyMs, 0.5))}, p99 ${fmt(percentile(notifyMs, 0.99))}`,
  );
  report(
    `kill committed → all 5 gates closed: p50 ${fmt(percentile(killMs, 0.5))}, p99 ${fmt(percentile(killMs, 0.99))} (target < 100 ms); ratio to the bare NOTIFY p99 ${(percentile(killMs, 0.99) / percentile(notifyMs, 0.99)).toFixed(1)}×`,
  );
  const plainRuns: number[] = [];
  const leasedRuns: number[] = [];
  for (let round = 0; round < 7; round++) {
    // Between rounds the event loop turns: the lease is renewed as in a trading loop.
    await sleep(50);
    plainRuns.push(gateNs(plain));
    await sleep(50);
    leasedRuns.push(gateNs(leased));
  }
  plain.close();

  // (3) PostgreSQL frozen whole → all gates closed.
  const frozenMs: number[] = [];
  for (let trial = 0; trial < 3; trial++) {
    await until(() => governors.every((gov) => gov.canDeployCapital()), 20_000, 'open gates');
    const start = performance.now();
    cluster.freeze();
    await until(() => governors.every((gov) => !gov.canDeployCapital()), LEASE_MS * 3, 'closed');
    frozenMs.push(performance.now() - start);
    cluster.thaw();
    await sleep(LEASE_MS / 2);
  }
  clearInterval(fresh);
  for (const gov of governors) gov.close();

  // (4) 200 simulated hosts on one PostgreSQL.
  const fencedAt = new Map<number, number>();
  const leases: FleetLease[] = [];
  for (let i = 0; i < SIMULATED_HOSTS; i++) {
    const scopes = [`sim/desk-${i % 10}/s-${i}`];
    const lease: FleetLease = new FleetLease({
      transport: postgresTransport({
        url: cluster.urlFor(`h${i + 5}`),
        host: `sim-${i}`,
        scopes,
        leaseMs: LEASE_MS,
        connectTimeoutMs: 10_000,
      }),
      clock: new SystemClock(),
      logger: silentLogger(),
      scopes,
      leaseMs: LEASE_MS,
      authorityLossMs: 120_000,
      holder: {
        report: () => ({ state: 'AGGRESSIVE', gateOpen: true, restartCheck: null }),
        leaseChanged: () => {},
        killed: (kill) => {
          fencedAt.set(i, performance.now());
          lease.confirm(kill, 'SHUTDOWN');
        },
        lost: () => {},
        regained: () => {},
        queueUsageHigh: () => {},
        epochsEstablished: () => {},
      },
    });
    leases.push(lease);
  }
  for (const lease of leases) await lease.establish();
  const statsBefore = await admin.query<{ xact: string }>(
    'SELECT sum(xact_commit + xact_rollback)::text AS xact FROM pg_stat_database',
  );
  const cpuTicks = (): number =>
    cluster.processTree().reduce((sum, pid) => {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
        return sum + Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
      } catch {
        return sum;
      }
    }, 0);
  const ticksBefore = cpuTicks();
  const loadWindowMs = 10_000;
  await sleep(loadWindowMs);
  const ticksAfter = cpuTicks();
  const statsAfter = await admin.query<{ xact: string }>(
    'SELECT sum(xact_commit + xact_rollback)::text AS xact FROM pg_stat_database',
  );
  const transactionsPerSecond =
    (Number(statsAfter.rows[0]?.xact) - Number(statsBefore.rows[0]?.xact)) / (loadWindowMs / 1000);
  const cpuPercent = ((ticksAfter - ticksBefore) / 100 / (loadWindowMs / 1000)) * 100;
  const simulatedMs: number[] = [];
  for (let trial = 0; trial < SIMULATED_TRIALS; trial++) {
    fencedAt.clear();
    await sleep(Math.random() * (LEASE_MS / 3));
    const start = performance.now();
    await operator.query("SELECT governor_fleet.kill_scope('sim', 'bench', 'kill')");
    await until(() => fencedAt.size === SIMULATED_HOSTS, 10_000, 'all simulated hosts fenced');
    simulatedMs.push(Math.max(...fencedAt.values()) - start);
    await operator.query("SELECT * FROM governor_fleet.release_scope('sim', 'bench', 'over')");
    await sleep(LEASE_MS / 3 + 100);
    for (const lease of leases) await lease.establish();
  }
  for (const lease of leases) lease.stop();
  await operator.end();
  await admin.end();

  const killP99 = percentile(killMs, 0.99);
  const notifyP99 = percentile(notifyMs, 0.99);
  report(`fleet bench (${TRIALS} trials, leaseMs ${LEASE_MS}, one PostgreSQL 15, this machine)`);
  report(`bare NOTIFY → 5 listeners: p50 ${fmt(percentile(notifyMs, 0.5))}, p99 ${fmt(notifyP99)}`);
  report(
    `kill committed → all 5 gates closed: p50 ${fmt(percentile(killMs, 0.5))}, p99 ${fmt(killP99)} (target < 100 ms: ${killP99 < 100 ? 'met' : 'MISSED'}); ratio to the bare NOTIFY p99 ${(killP99 / notifyP99).toFixed(1)}×`,
  );
  report(
    `PostgreSQL frozen (whole tree) → all 5 gates closed: ${frozenMs.map(fmt).join(', ')} (bound leaseMs + 100 = ${LEASE_MS + 100} ms: ${Math.max(...frozenMs) <= LEASE_MS + 100 ? 'met' : 'MISSED'})`,
  );
  report(
    `${SIMULATED_HOSTS} simulated hosts: kill → all fenced p50 ${fmt(percentile(simulatedMs, 0.5))}, p99 ${fmt(percentile(simulatedMs, 0.99))} (${SIMULATED_TRIALS} trials); renewals load ${transactionsPerSecond.toFixed(0)} transactions/s, PostgreSQL CPU ${cpuPercent.toFixed(1)}% of one core`,
  );
  const plainNs = percentile(plainRuns, 0.5);
  const leasedNs = percentile(leasedRuns, 0.5);
  report(
    `canDeployCapital(): ${leasedNs.toFixed(2)} ns with a lease vs ${plainNs.toFixed(2)} ns without (ratio ${(leasedNs / plainNs).toFixed(2)}, target ≤ 1.5)`,
  );
} finally {
  cluster.destroy();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
