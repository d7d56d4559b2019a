/**
 * The epochs a host remembers, end to end: a real PostgreSQL, a real host process
 * (fleet-host.ts, embedding governor) on a real SQLite file. The host is killed -9; while it is
 * down, its scope is killed and released; a hostile local process deletes the side file earlier
 * versions kept and the `fleet_epochs` rows; the next process of the host still obeys the kill
 * (SHUTDOWN, its checks failed) and its gate never opens.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fleetInit,
  fleetKill,
  fleetRelease,
  HOST_ROLE,
  OPERATOR_ROLE,
} from '../../services/fleet/operator.js';
import { type PostgresCluster, startPostgres } from '../support/postgres.js';

/** A liveness bound, not a measurement. */
const WAIT_MS_MAX = 60_000;
let cluster: PostgresCluster;
let dir: string;

beforeAll(async () => {
  cluster = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'governor-fleet-epochs-'));
  await fleetInit({ url: cluster.superuserUrl });
  const admin = new pg.Client({ connectionString: cluster.superuserUrl });
  await admin.connect();
  await admin.query(`CREATE ROLE fleet_operator LOGIN IN ROLE ${OPERATOR_ROLE}`);
  await admin.query("SELECT governor_fleet.grant_operator_scope('fleet_operator', 'firm')");
  await admin.query(`CREATE ROLE "host-1" LOGIN IN ROLE ${HOST_ROLE}`);
  await admin.end();
});

afterAll(() => {
  cluster?.destroy();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

interface HostProcess {
  readonly child: ChildProcess;
  readonly states: string[];
  readonly checks: boolean[];
  readonly history: string;
  until(what: string, condition: () => boolean): Promise<void>;
}

function startHost(run: number): HostProcess {
  const history = join(dir, `host-1.${run}.history`);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'fleet-host.ts')],
    {
      env: {
        ...process.env,
        FLEET_HOST: 'host-1',
        FLEET_SCOPES: 'firm/desk-a/strategy-x',
        FLEET_URL: cluster.urlFor('host-1'),
        FLEET_LEASE_MS: '600',
        FLEET_DB: join(dir, 'host-1.db'),
        FLEET_HISTORY: history,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const states: string[] = [];
  const checks: boolean[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-5_000);
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      const message = JSON.parse(line) as { type?: string; state?: string; passed?: boolean };
      if (message.type === 'state' && message.state !== undefined) states.push(message.state);
      if (message.type === 'checks') checks.push(message.passed === true);
    } catch {
      // a log line
    }
  });
  const until = async (what: string, condition: () => boolean): Promise<void> => {
    const end = Date.now() + WAIT_MS_MAX;
    while (!condition()) {
      if (Date.now() > end) {
        throw new Error(`timed out waiting for ${what}: states ${states.join(' → ')}\n${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { child, states, checks, history, until };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('the epochs a host remembers', () => {
  it('regression: deleting the remembered-epochs side file (and now the rows) between two runs made the host forget a kill it never saw and open its gate', async () => {
    const first = startHost(0);
    await first.until('AGGRESSIVE', () => first.states.includes('AGGRESSIVE'));
    first.child.kill('SIGKILL');
    await exited(first.child);

    const operator = { url: cluster.urlFor('fleet_operator'), operator: 'dana' };
    await fleetKill({
      ...operator,
      scope: 'firm/desk-a',
      reason: 'while host-1 is down',
      waitMs: 0,
    });
    await fleetRelease({ ...operator, scope: 'firm/desk-a', reason: 'over', waitMs: 0 });

    // A local process removes whatever it can find of the remembered epochs.
    const dbPath = join(dir, 'host-1.db');
    rmSync(`${dbPath}.fleet-epochs.json`, { force: true });
    const db = new Sqlite(dbPath, { timeout: 5_000 });
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'fleet_epochs'")
      .all();
    if (tables.length > 0) db.prepare('DELETE FROM fleet_epochs').run();
    db.close();

    const second = startHost(1);
    try {
      await second.until('the checks', () => second.checks.length > 0);
      await second.until('SHUTDOWN', () => second.states.includes('SHUTDOWN'));
      expect(second.checks[0]).toBe(false);
      expect(second.states).not.toContain('AGGRESSIVE');
      // Its gate never answered true.
      const lines = existsSync(second.history) ? readFileSync(second.history, 'utf8') : '';
      expect(lines.split('\n').filter((line) => line.endsWith(' 1'))).toEqual([]);
    } finally {
      second.child.kill('SIGTERM');
      await exited(second.child);
    }
  });
});
