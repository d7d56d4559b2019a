/**
 * Benchmark: `GET /api/health` of a governor in AGGRESSIVE against a bare node:http server
 * returning a fixed JSON body, measured by autocannon in the same run with the same load,
 * interleaved over rounds; each server in its own process. Targets: req/s ratio ≥ 0.8, and
 * the heartbeat's largest lateness under load < 100 ms.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer } from '../services/api/server.js';
import { type Clock, SystemClock, type TimerHandle } from '../services/clock.js';
import { GovernanceSystem } from '../services/governor/governance-system.js';

const CONNECTIONS = 32;
const ROUND_SECONDS = 6;
const ROUNDS = 3;
const WARMUP_SECONDS = 2;
const HEARTBEAT_INTERVAL_MS = 100;
const RATIO_TARGET = 0.8;
const LATENESS_TARGET_MS = 100;

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p99: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

type ChildMessage =
  | { type: 'listening'; url: string }
  | { type: 'lateness'; maxMs: number; beats: number };
type ParentMessage = { type: 'measure' } | { type: 'report' };

/** The real clock, noting how late each heartbeat-interval timer fires while measuring. */
class ObservedClock implements Clock {
  private readonly inner = new SystemClock();
  measuring = false;
  maxLatenessMs = 0;
  beats = 0;

  wallNow(): number {
    return this.inner.wallNow();
  }
  monotonicNow(): number {
    return this.inner.monotonicNow();
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    this.inner.clearTimeout(handle);
  }
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    if (delayMs !== HEARTBEAT_INTERVAL_MS) return this.inner.setTimeout(callback, delayMs);
    const dueMs = performance.now() + delayMs;
    return this.inner.setTimeout(() => {
      if (this.measuring) {
        this.beats++;
        this.maxLatenessMs = Math.max(this.maxLatenessMs, performance.now() - dueMs);
      }
      callback();
    }, delayMs);
  }
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

/** Child: a governor in AGGRESSIVE with its heartbeat every 100 ms, and its health API. */
async function serveGovernor(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'governor-bench-api-'));
  const clock = new ObservedClock();
  const governance = new GovernanceSystem({
    dbPath: join(dir, 'governor.db'),
    clock,
    thresholds: { heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS },
  });
  if (!(await governance.runStartupChecks())) throw new Error('startup checks failed');
  const api = await startApiServer({ governance });
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'measure') clock.measuring = true;
    if (message.type === 'report') {
      send({ type: 'lateness', maxMs: clock.maxLatenessMs, beats: clock.beats });
      void api.close().then(() => {
        governance.close();
        rmSync(dir, { recursive: true, force: true });
        process.disconnect();
      });
    }
  });
  send({ type: 'listening', url: `${api.url}/api/health` });
}

/** Child: the baseline, a bare node:http server answering a fixed JSON body. */
function serveBare(): void {
  const body = JSON.stringify({ status: 'pass', mode: 'AGGRESSIVE' });
  const server = createServer((_request, response) => {
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    send({ type: 'listening', url: `http://127.0.0.1:${address.port}/` });
  });
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'report') {
      server.close();
      server.closeAllConnections();
      process.disconnect();
    }
  });
}

function startChild(role: 'governor' | 'bare'): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), role], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${role} server exited (${code})`)));
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'listening') resolve({ child, url: message.url });
    });
  });
}

function nextMessage(child: ChildProcess): Promise<ChildMessage> {
  return new Promise((resolve) =>
    child.once('message', (message: ChildMessage) => resolve(message)),
  );
}

interface Totals {
  requests: number;
  seconds: number;
  p99Ms: number;
  failures: number;
}

async function load(url: string, seconds: number, totals: Totals | null): Promise<void> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds });
  if (totals === null) return;
  totals.requests += result.requests.total;
  totals.seconds += seconds;
  totals.p99Ms = Math.max(totals.p99Ms, result.latency.p99);
  totals.failures += result.errors + result.timeouts + result.non2xx;
}

async function main(): Promise<void> {
  const governor = await startChild('governor');
  const bare = await startChild('bare');
  await load(bare.url, WARMUP_SECONDS, null);
  await load(governor.url, WARMUP_SECONDS, null);
  governor.child.send({ type: 'measure' } satisfies ParentMessage);
  const api: Totals = { requests: 0, seconds: 0, p99Ms: 0, failures: 0 };
  const baseline: Totals = { requests: 0, seconds: 0, p99Ms: 0, failures: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    await load(bare.url, ROUND_SECONDS, baseline);
    await load(governor.url, ROUND_SECONDS, api);
  }
  const lateness = nextMessage(governor.child);
  governor.child.send({ type: 'report' } satisfies ParentMessage);
  bare.child.send({ type: 'report' } satisfies ParentMessage);
  const report = await lateness;
  if (report.type !== 'lateness') throw new Error('unexpected message');

  const apiRate = api.requests / api.seconds;
  const bareRate = baseline.requests / baseline.seconds;
  const ratio = apiRate / bareRate;
  const lines = [
    `autocannon: ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${ROUND_SECONDS} s each`,
    `GET /api/health (governor)  ${apiRate.toFixed(0).padStart(8)} req/s   p99 ${api.p99Ms} ms   failures ${api.failures}`,
    `bare node:http fixed JSON   ${bareRate.toFixed(0).padStart(8)} req/s   p99 ${baseline.p99Ms} ms   failures ${baseline.failures}`,
    `ratio ${ratio.toFixed(3)} (target >= ${RATIO_TARGET}) ${ratio >= RATIO_TARGET ? 'OK' : 'MISSED'}`,
    `heartbeat: ${report.beats} beats under load, largest lateness ${report.maxMs.toFixed(1)} ms (target < ${LATENESS_TARGET_MS} ms) ${report.maxMs < LATENESS_TARGET_MS ? 'OK' : 'MISSED'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (api.failures > 0) process.exitCode = 1;
}

const role = process.argv[2];
if (role === 'governor') await serveGovernor();
else if (role === 'bare') serveBare();
else await main();
