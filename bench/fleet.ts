/**
 * Benchmark: the fleet authority on a real PostgreSQL (a throwaway cluster, as the tests start
 * it), in the deployment's shape: each host is its own process (bench/support/fleet-host-child.ts,
 * embedding governor through its public API). In one run: (1) a bare NOTIFY to 5 listening processes (the
 * baseline); (2) kill committed → all 5 gates closed: five host processes, the kill by the
 * operator's command (`governor shutdown --authority URL --scope S`, dist/: `npm run build`
 * first), each trial released and the hosts restarted; (3) PostgreSQL's whole process tree frozen
 * → all 5 gates closed, against leaseMs; (4) 200 simulated hosts (leases without a governor, in
 * this process) on one PostgreSQL: kill → all 200 fenced, and the database's load from renewals
 * (transactions per second, CPU of its processes); (5) canDeployCapital() with a lease against
 * the same governor without one. Times across processes are wall times (CLOCK_REALTIME: Date.now()
 * in Node, now() and the commit timestamps in PostgreSQL; one machine, one clock); a kill is timed
 * from its commit (track_commit_timestamp), the baseline from its statement. Run: npm run bench:fleet (BENCH_TRIALS,
 * default 100).
 */
import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import pg from 'pg';
import { SystemClock } from '../services/clock.js';
import { FleetLease } from '../services/fleet/lease.js';
import { fleetInit, fleetRelease, HOST_ROLE, OPERATOR_ROLE } from '../services/fleet/operator.js';
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
/** The parent polls gently: the hosts time themselves, and a spinning parent would take a core. */
const turn = (): Promise<void> => sleep(2);
const CHILD = join(import.meta.dirname, 'support', 'fleet-host-child.ts');
const GOVERNOR_BIN = join(import.meta.dirname, '..', 'dist', 'bin', 'governor.js');

interface ChildLine {
  readonly type: string;
  readonly wallMs?: number;
  readonly latencyMs?: number;
}
interface Child {
  readonly child: ChildProcessByStdio<Writable, Readable, null>;
  readonly lines: ChildLine[];
}

async function until(condition: () => boolean, boundMs: number, what: string): Promise<void> {
  const end = performance.now() + boundMs;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await turn();
  }
}

const cluster = await startPostgres();
{
  // Each transaction's commit time is recorded (pg_xact_commit_timestamp): a kill is timed from
  // its commit, not from its statement's start (a new connection's first kill compiles the
  // functions first, tens of ms on this box, before anything is committed).
  const setup = new pg.Client({ connectionString: cluster.superuserUrl });
  await setup.connect();
  await setup.query('ALTER SYSTEM SET track_commit_timestamp = on');
  await setup.end();
  cluster.stopImmediate();
  cluster.start();
}
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
  for (let i = 0; i < 6 + SIMULATED_HOSTS; i++) {
    await admin.query(`CREATE ROLE h${i} LOGIN IN ROLE ${HOST_ROLE}`);
  }
  const operator = new pg.Client({ connectionString: cluster.urlFor('op') });
  await operator.connect();

  // Five child processes per part: the deployment's shape (five hosts, five event loops, five
  // connections), each reporting on its own clock reading (wall, the one PostgreSQL's now() reads).
  const spawnChild = (env: Record<string, string>): Child => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const entry: Child = { child, lines: [] };
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      entry.lines.push(JSON.parse(line) as ChildLine);
    });
    return entry;
  };
  const stopChildren = async (children: readonly Child[]): Promise<void> => {
    for (const { child } of children) child.kill('SIGTERM');
    await Promise.all(
      children.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) resolve();
            else child.once('exit', () => resolve());
          }),
      ),
    );
  };

  // (1) The baseline: a bare NOTIFY to 5 listening processes, from the statement's start on the
  // database's clock (the payload) to each listener's receipt on its own wall clock.
  const listeners = Array.from({ length: 5 }, (_, i) =>
    spawnChild({
      FLEET_ROLE: 'listener',
      FLEET_HOST: `listener-${i}`,
      FLEET_URL: cluster.superuserUrl,
    }),
  );
  await until(
    () => listeners.every((l) => l.lines.some((m) => m.type === 'listening')),
    60_000,
    'listeners',
  );
  const notifyMs: number[] = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    const from = listeners.map((l) => l.lines.length);
    await admin.query(
      "SELECT pg_notify('bench', (extract(epoch FROM statement_timestamp()) * 1000)::text)",
    );
    const heard = (l: Child, i: number): ChildLine | undefined =>
      l.lines.slice(from[i]).find((m) => m.type === 'heard');
    await until(
      () => listeners.every((l, i) => heard(l, i) !== undefined),
      5_000,
      'the notifications',
    );
    notifyMs.push(Math.max(...listeners.map((l, i) => Number(heard(l, i)?.latencyMs))));
    await sleep(20);
  }
  await stopChildren(listeners);

  // (2) Kill committed → all 5 gates closed: five host processes; the kill by the operator's
  // command (`governor shutdown --authority URL --scope firm/desk-a`), timed from its
  // transaction's start (the scope row's changed_at, the database's clock) to the last host's
  // gate closed (each host's wall clock, Date.now(): one machine, one clock).
  const hosts = Array.from({ length: 5 }, (_, i) =>
    spawnChild({
      FLEET_HOST: `host-${i}`,
      FLEET_URL: cluster.urlFor(`h${i}`),
      FLEET_SCOPES: 'firm/desk-a/strategy-x',
      FLEET_LEASE_MS: String(LEASE_MS),
      FLEET_DB: join(dir, `host-${i}.db`),
    }),
  );
  const gateOf = (h: Child): string | undefined =>
    h.lines.filter((m) => m.type === 'open' || m.type === 'closed').at(-1)?.type;
  const allOpen = (): boolean => hosts.every((h) => gateOf(h) === 'open');
  const killMs: number[] = [];
  const statementToClosedMs: number[] = [];
  await until(allOpen, 90_000, 'open gates');
  for (let trial = 0; trial < TRIALS; trial++) {
    await until(allOpen, 20_000, 'open gates');
    await sleep(Math.random() * (LEASE_MS / 3));
    const from = hosts.map((h) => h.lines.length);
    const kill = spawnSync(
      process.execPath,
      [
        GOVERNOR_BIN,
        'shutdown',
        '--authority',
        cluster.urlFor('op'),
        '--scope',
        'firm/desk-a',
        '--operator',
        'bench',
        '--reason',
        `trial ${trial}`,
      ],
      { encoding: 'utf8' },
    );
    if (kill.status !== 0)
      throw new Error(`bench: the kill exited ${kill.status}: ${kill.stdout}${kill.stderr}`);
    const closedAt = (h: Child, i: number): number | undefined =>
      h.lines.slice(from[i]).find((m) => m.type === 'closed')?.wallMs;
    await until(() => hosts.every((h, i) => closedAt(h, i) !== undefined), 10_000, 'closed gates');
    const committed = await admin.query<{ started: string; committed: string }>(
      `SELECT (extract(epoch FROM changed_at) * 1000)::text AS started,
              (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000)::text AS committed
         FROM governor_fleet.scopes WHERE scope = 'firm/desk-a'`,
    );
    const startMs = Number(committed.rows[0]?.committed);
    const statementMs = Number(committed.rows[0]?.started);
    const lastClosedMs = Math.max(...hosts.map((h, i) => Number(closedAt(h, i))));
    killMs.push(lastClosedMs - startMs);
    statementToClosedMs.push(lastClosedMs - statementMs);
    await fleetRelease({
      url: cluster.urlFor('op'),
      scope: 'firm/desk-a',
      operator: 'bench',
      reason: 'over',
      waitMs: 0,
    });
    for (const { child } of hosts) child.stdin.write('restart\n');
  }
  report(
    `bare NOTIFY → 5 listening processes: p50 ${fmt(percentile(notifyMs, 0.5))}, p99 ${fmt(percentile(notifyMs, 0.99))}`,
  );
  report(
    `kill committed → all 5 gates closed (5 processes): p50 ${fmt(percentile(killMs, 0.5))}, p99 ${fmt(percentile(killMs, 0.99))} (target < 100 ms); ratio to the bare NOTIFY p99 ${(percentile(killMs, 0.99) / percentile(notifyMs, 0.99)).toFixed(1)}×`,
  );

  // (3) PostgreSQL frozen whole → all 5 gates closed (the same five processes).
  const frozenMs: number[] = [];
  for (let trial = 0; trial < 3; trial++) {
    await until(allOpen, 20_000, 'open gates');
    const from = hosts.map((h) => h.lines.length);
    const startMs = Date.now();
    cluster.freeze();
    const closedAt = (h: Child, i: number): number | undefined =>
      h.lines.slice(from[i]).find((m) => m.type === 'closed')?.wallMs;
    await until(() => hosts.every((h, i) => closedAt(h, i) !== undefined), LEASE_MS * 3, 'closed');
    frozenMs.push(Math.max(...hosts.map((h, i) => Number(closedAt(h, i)))) - startMs);
    cluster.thaw();
    await sleep(LEASE_MS / 2);
  }
  await stopChildren(hosts);

  // (5) The gate's cost with a lease against the same code without one (in this process).
  const leased = new GovernanceSystem({
    dbPath: join(dir, 'leased.db'),
    authority: {
      url: cluster.urlFor('h5'),
      host: 'host-5',
      scopes: ['firm/desk-a/strategy-x'],
      leaseMs: LEASE_MS,
    },
  });
  const plain = new GovernanceSystem({ dbPath: join(dir, 'plain.db') });
  const fresh = setInterval(() => {
    for (const gov of [leased, plain]) {
      gov.healthMonitor.updateMarketDataTimestamp();
      gov.healthMonitor.updateSnapshotWriteTimestamp();
    }
  }, 100);
  await leased.runStartupChecks();
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
  await until(() => leased.canDeployCapital(), 20_000, 'the leased gate open');
  const plainRuns: number[] = [];
  const leasedRuns: number[] = [];
  for (let round = 0; round < 7; round++) {
    // Between rounds the event loop turns: the lease is renewed as in a trading loop.
    await sleep(50);
    plainRuns.push(gateNs(plain));
    await sleep(50);
    leasedRuns.push(gateNs(leased));
  }
  clearInterval(fresh);
  plain.close();
  leased.close();

  // (4) 200 simulated hosts on one PostgreSQL.
  const fencedAt = new Map<number, number>();
  const leases: FleetLease[] = [];
  for (let i = 0; i < SIMULATED_HOSTS; i++) {
    const scopes = [`sim/desk-${i % 10}/s-${i}`];
    const lease: FleetLease = new FleetLease({
      transport: postgresTransport({
        url: cluster.urlFor(`h${i + 6}`),
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
        epochsSeen: () => {},
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
  report(
    `bare NOTIFY → 5 listening processes: p50 ${fmt(percentile(notifyMs, 0.5))}, p99 ${fmt(notifyP99)}`,
  );
  report(
    `kill committed → all 5 gates closed (5 processes): p50 ${fmt(percentile(killMs, 0.5))}, p99 ${fmt(killP99)} (target < 100 ms: ${killP99 < 100 ? 'met' : 'MISSED'}); ratio to the bare NOTIFY p99 ${(killP99 / notifyP99).toFixed(1)}×`,
  );
  report(
    `the operator's kill statement started → all 5 gates closed: p50 ${fmt(percentile(statementToClosedMs, 0.5))}, p99 ${fmt(percentile(statementToClosedMs, 0.99))} (a new connection's first kill)`,
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
