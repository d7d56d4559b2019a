/**
 * Seeded, replayable fault runs against a real fleet: a throwaway PostgreSQL, five governor
 * processes (fleet-host.ts) each behind its own stalling TCP proxy, and a schedule of faults
 * drawn from the seed: kills of a scope, PostgreSQL's whole process tree frozen, an immediate
 * stop and restart, a host partitioned or frozen, a kill (and release) while a host is cut off or
 * dead. Afterwards the checker reads every gate history. Used by the e2e test (a few runs) and
 * `npm run fleet:soak -- --runs 200`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import {
  fleetInit,
  fleetKill,
  fleetRelease,
  HOST_ROLE,
  OPERATOR_ROLE,
} from '../../services/fleet/operator.js';
import { covers } from '../../services/fleet/scopes.js';
import { type PostgresCluster, startPostgres } from '../support/postgres.js';
import { type StallProxy, startStallProxy } from '../support/stall-proxy.js';
import { type ClosedWindow, check, openIntervals, type Violation } from './checker.js';

export const HOSTS = [
  { host: 'host-1', scope: 'firm/desk-a/strategy-x' },
  { host: 'host-2', scope: 'firm/desk-a/strategy-x' },
  { host: 'host-3', scope: 'firm/desk-a' },
  { host: 'host-4', scope: 'firm/desk-b' },
  { host: 'host-5', scope: 'firm/desk-b' },
] as const;
const KILL_SCOPES = ['firm', 'firm/desk-a', 'firm/desk-b', 'firm/desk-a/strategy-x'];
const EPISODES = [
  'kill',
  'freeze-postgres',
  'stop-postgres',
  'partition-host',
  'freeze-host',
  'kill-during-partition',
  'kill-while-dead',
] as const;
export type Episode = (typeof EPISODES)[number];

export interface FaultRunOptions {
  readonly runs: number;
  readonly seed: number;
  readonly leaseMs?: number;
  readonly epsilonMs?: number;
  readonly log?: (line: string) => void;
}

export interface FaultRunResult {
  readonly episodes: readonly string[];
  readonly violations: readonly Violation[];
  /** Kill committed → every host in the scope confirmed, ms, per kill that all confirmed. */
  readonly confirmMs: readonly number[];
}

/** A small seeded PRNG (mulberry32): the same seed, the same schedule. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface RunningHost {
  readonly host: string;
  readonly scope: string;
  readonly proxy: StallProxy;
  /** One history file per process (a respawned host starts a new one), with its end. */
  readonly histories: Array<{ path: string; endAt: number | null }>;
  child: ChildProcess;
  state: string;
  checksPassed: number;
  diedAt: number | null;
}

export async function runFleetFaults(options: FaultRunOptions): Promise<FaultRunResult> {
  const leaseMs = options.leaseMs ?? 600;
  const epsilonMs = options.epsilonMs ?? 30;
  const log = options.log ?? (() => {});
  const random = prng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const dir = mkdtempSync(join(tmpdir(), 'governor-fleet-faults-'));
  const cluster: PostgresCluster = await startPostgres();
  const hosts: RunningHost[] = [];
  const windows: ClosedWindow[] = [];
  const episodes: string[] = [];
  const confirmMs: number[] = [];
  const operator = { url: cluster.urlFor('fleet_operator'), operator: 'fleet-test' };
  let endAt = 0;
  try {
    await fleetInit({ url: cluster.superuserUrl });
    const admin = new pg.Client({ connectionString: cluster.superuserUrl });
    await admin.connect();
    await admin.query(`CREATE ROLE fleet_operator LOGIN IN ROLE ${OPERATOR_ROLE}`);
    await admin.query("SELECT governor_fleet.grant_operator_scope('fleet_operator', 'firm')");
    for (const { host } of HOSTS) {
      await admin.query(`CREATE ROLE "${host}" LOGIN IN ROLE ${HOST_ROLE}`);
    }
    await admin.end();

    const spawnHost = (entry: RunningHost): void => {
      const history = join(dir, `${entry.host}.${entry.histories.length}.history`);
      entry.histories.push({ path: history, endAt: null });
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fleet-host.ts')],
        {
          env: {
            ...process.env,
            FLEET_HOST: entry.host,
            FLEET_SCOPES: entry.scope,
            FLEET_URL: `postgresql://${entry.host}@127.0.0.1:${entry.proxy.port}/postgres`,
            FLEET_LEASE_MS: String(leaseMs),
            FLEET_DB: join(dir, `${entry.host}.db`),
            FLEET_HISTORY: history,
          },
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      );
      entry.child = child;
      entry.diedAt = null;
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        try {
          const message = JSON.parse(line) as { type?: string; state?: string; passed?: boolean };
          if (message.type === 'state' && message.state !== undefined) entry.state = message.state;
          if (message.type === 'checks' && message.passed === true) entry.checksPassed += 1;
        } catch {
          // a log line
        }
      });
    };
    for (const { host, scope } of HOSTS) {
      const entry: RunningHost = {
        host,
        scope,
        proxy: await startStallProxy(cluster.port),
        histories: [],
        child: undefined as unknown as ChildProcess,
        state: 'STARTING',
        checksPassed: 0,
        diedAt: null,
      };
      hosts.push(entry);
      spawnHost(entry);
    }
    const waitFor = async (what: string, condition: () => boolean, ms = 30_000): Promise<void> => {
      const until = monotonicMs() + ms;
      while (!condition()) {
        if (monotonicMs() > until) {
          const states = hosts.map((h) => `${h.host} ${h.state}`).join(', ');
          throw new Error(`timed out waiting for ${what} (${states})`);
        }
        await sleep(20);
      }
    };
    await waitFor(
      'every host AGGRESSIVE',
      () => hosts.every((h) => h.state === 'AGGRESSIVE'),
      90_000,
    );

    const inScope = (scope: string): RunningHost[] => hosts.filter((h) => covers(scope, h.scope));
    /** Kill and release of `scope`; the window of each host in it stays open until its restart. */
    const killAndRelease = async (
      scope: string,
      waitMs: number,
    ): Promise<Array<ClosedWindow & { restartedAt?: number }>> => {
      const from = monotonicMs();
      const result = await fleetKill({ ...operator, scope, reason: 'fault run', waitMs });
      if (result.hosts.length > 0 && result.hosts.every((h) => h.outcome === 'confirmed')) {
        confirmMs.push(Math.max(...result.hosts.map((h) => h.latencyMs ?? 0)));
      }
      await fleetRelease({ ...operator, scope, reason: 'fault run over', waitMs: 0 });
      return inScope(scope).map((h) => ({
        host: h.host,
        from,
        until: Number.POSITIVE_INFINITY,
        why: `kill of ${scope}`,
      }));
    };
    /** Each killed host restarts locally (the operator action); its window ends there. */
    const restartAll = async (pending: Array<ClosedWindow & { restartedAt?: number }>) => {
      for (const window of pending) {
        const h = hosts.find((entry) => entry.host === window.host) as RunningHost;
        await waitFor(`${h.host} SHUTDOWN`, () => h.state === 'SHUTDOWN', 10_000 + leaseMs);
      }
      for (const window of pending) {
        const h = hosts.find((entry) => entry.host === window.host) as RunningHost;
        const passedBefore = h.checksPassed;
        windows.push({ ...window, until: monotonicMs() });
        h.child.stdin?.write('restart\n');
        await waitFor(`${h.host} checks`, () => h.checksPassed > passedBefore, 20_000);
      }
    };
    const loss = (targets: readonly RunningHost[], from: number, until: number, why: string) => {
      for (const h of targets) windows.push({ host: h.host, from, until, why });
    };
    const holdMs = (): number => Math.round(leaseMs * (1.2 + random() * 1.5));

    for (let run = 0; run < options.runs; run++) {
      const episode: Episode = pick(EPISODES);
      const target = pick(hosts);
      const drawn = pick(KILL_SCOPES);
      // A kill while a host is cut off or dead is a kill of that host's scope.
      const scope = episode === 'kill' ? drawn : target.scope;
      const hold = holdMs();
      episodes.push(
        `${run}: ${episode} ${episode.includes('kill') ? scope : ''} ${target.host} ${hold}ms`,
      );
      log(episodes.at(-1) as string);
      switch (episode) {
        case 'kill': {
          await restartAll(await killAndRelease(scope, leaseMs));
          break;
        }
        case 'freeze-postgres': {
          const from = monotonicMs();
          cluster.freeze();
          await sleep(hold);
          loss(hosts, from, monotonicMs(), 'PostgreSQL frozen');
          cluster.thaw();
          break;
        }
        case 'stop-postgres': {
          const from = monotonicMs();
          cluster.stopImmediate();
          await sleep(hold);
          cluster.start();
          loss(hosts, from, monotonicMs(), 'PostgreSQL stopped');
          break;
        }
        case 'partition-host': {
          const from = monotonicMs();
          target.proxy.stall();
          await sleep(hold);
          loss([target], from, monotonicMs(), 'partitioned');
          target.proxy.heal();
          break;
        }
        case 'freeze-host': {
          const from = monotonicMs();
          target.child.kill('SIGSTOP');
          await sleep(hold);
          loss([target], from, monotonicMs(), 'host frozen');
          target.child.kill('SIGCONT');
          break;
        }
        case 'kill-during-partition': {
          target.proxy.stall();
          const pending = await killAndRelease(scope, 0);
          await sleep(hold);
          target.proxy.heal();
          await restartAll(pending);
          break;
        }
        case 'kill-while-dead': {
          target.diedAt = monotonicMs();
          const current = target.histories.at(-1);
          const exited = new Promise((resolve) => target.child.once('exit', resolve));
          target.child.kill('SIGKILL');
          await exited;
          if (current !== undefined) current.endAt = monotonicMs();
          const pending = await killAndRelease(scope, 0);
          target.state = 'STARTING';
          spawnHost(target);
          await restartAll(pending);
          break;
        }
      }
      // Every host is back to AGGRESSIVE before the next episode (its lease renewed).
      await waitFor('every host AGGRESSIVE', () => hosts.every((h) => h.state === 'AGGRESSIVE'));
      await sleep(leaseMs);
    }
  } finally {
    endAt = monotonicMs();
    for (const h of hosts) {
      h.child.kill('SIGCONT');
      h.child.kill('SIGTERM');
    }
    await Promise.all(
      hosts.map(
        (h) =>
          new Promise<void>((resolve) => {
            if (h.child.exitCode !== null || h.child.signalCode !== null) resolve();
            else h.child.once('exit', () => resolve());
            setTimeout(() => {
              h.child.kill('SIGKILL');
              resolve();
            }, 5_000);
          }),
      ),
    );
    for (const h of hosts) await h.proxy.close();
    cluster.destroy();
  }
  const histories = new Map(
    hosts.map((h) => [
      h.host,
      h.histories.flatMap((file) => openIntervals(file.path, file.endAt ?? endAt)),
    ]),
  );
  const violations = check(histories, windows, leaseMs, epsilonMs);
  rmSync(dir, { recursive: true, force: true });
  return { episodes, violations, confirmMs };
}
