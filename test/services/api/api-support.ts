/**
 * Test support for the health API: a governor (SimulatedClock, temporary database) in a chosen
 * lifecycle state with the API started on 127.0.0.1, a governor with sinks of every outcome
 * (so that every metric has a sample), a small HTTP client, and a checksum of every table so a
 * test can show that the API changed nothing.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { LifecycleState } from '../../../machines/types.js';
import type { AlertSink, WatchdogStats } from '../../../services/alerts/types.js';
import {
  type ApiServer,
  type ApiServerOptions,
  startApiServer,
} from '../../../services/api/server.js';
import { SimulatedClock } from '../../../services/clock.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { type Harness, makeHarness, tempDir } from '../../support/harness.js';

/** Every path the API serves (the tests' own list, not the server's). */
export const API_PATHS = [
  '/',
  '/api/health',
  '/api/health/status',
  '/api/health/uptime',
  '/api/health/last_snapshot',
  '/api/health/gate',
  '/api/health/stream',
  '/metrics',
  '/livez',
  '/readyz',
] as const;

export interface ApiHarness {
  readonly h: Harness;
  readonly api: ApiServer;
  cleanup(): Promise<void>;
}

/** Puts a fresh governor in `state` (CHECKING: startup checks waiting on an adapter ping). */
export async function governorIn(state: LifecycleState): Promise<Harness> {
  const h = makeHarness();
  if (state === 'STARTING') return h;
  if (state === 'CHECKING') {
    void h.gov.runStartupChecks([{ name: 'slow-exchange', ping: () => new Promise(() => {}) }]);
    for (let i = 0; i < 20 && h.gov.getState() !== 'CHECKING'; i++) await Promise.resolve();
    return h;
  }
  await h.gov.runStartupChecks();
  if (state === 'OBSERVE_ONLY') h.gov.operatorObserve({ operator: 'alice', reason: 'api test' });
  if (state === 'SHUTDOWN') h.gov.failSafeManager.triggerShutdown('MARKET_DATA_STALL', 'api test');
  return h;
}

export async function apiIn(
  state: LifecycleState,
  options: Omit<ApiServerOptions, 'governance'> = {},
): Promise<ApiHarness> {
  const h = await governorIn(state);
  const api = await startApiServer({ governance: h.gov, ...options });
  return {
    h,
    api,
    async cleanup() {
      await api.close();
      h.cleanup();
    },
  };
}

/** The watchdog figures the `alertmanager` sink of apiWithSinks reports. */
export const WATCHDOG_STATS: WatchdogStats = {
  intervalMs: 60_000,
  beatsSucceeded: 3,
  beatsFailed: 1,
  lastSuccessWallMs: 1_765_000_000_000,
};

export interface SinksHarness {
  readonly gov: GovernanceSystem;
  readonly api: ApiServer;
  cleanup(): Promise<void>;
}

/**
 * A governor (SimulatedClock, temporary database, one attempt per delivery) with three sinks:
 * `webhook` delivers, `pager` always fails, `alertmanager` reports a watchdog; the API started.
 */
export async function apiWithSinks(): Promise<SinksHarness> {
  const dir = tempDir();
  const sinks: AlertSink[] = [
    { name: 'webhook', deliver: () => undefined },
    { name: 'pager', deliver: () => Promise.reject(new Error('receiver down')) },
    { name: 'alertmanager', deliver: () => undefined, watchdogStats: () => WATCHDOG_STATS },
  ];
  const gov = new GovernanceSystem({
    dbPath: join(dir, 'governor.db'),
    clock: new SimulatedClock(),
    alertSinks: sinks,
    alertDelivery: { attemptsMax: 1 },
  });
  const api = await startApiServer({ governance: gov });
  return {
    gov,
    api,
    async cleanup() {
      await api.close();
      gov.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Fetched {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  json(): Record<string, unknown>;
}

export async function request(
  base: string,
  path: string,
  init: RequestInit = {},
): Promise<Fetched> {
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: () => JSON.parse(text) as Record<string, unknown>,
  };
}

/** SHA-256 over every row of every table, read through a separate read-only connection. */
export function tablesChecksum(dbPath: string): string {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const hash = createHash('sha256');
    const tables = db
      .prepare<[], { name: string }>(
        "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
      )
      .all();
    for (const { name } of tables) {
      hash.update(`table ${name}\n`);
      for (const row of db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).iterate()) {
        hash.update(`${JSON.stringify(row)}\n`);
      }
    }
    return hash.digest('hex');
  } finally {
    db.close();
  }
}
