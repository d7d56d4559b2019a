/**
 * Benchmark: `GET /api/health` of a governor in AGGRESSIVE against a bare node:http server
 * returning a fixed JSON body, measured by autocannon in the same run with the same load,
 * interleaved over rounds; each server in its own process. Beside req/s, each server's CPU
 * time per request (its process's `process.cpuUsage()` over the round, asked over IPC).
 * Targets: req/s ratio ≥ 0.8, and the heartbeat's largest lateness under load < 100 ms.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startApiServer } from '../services/api/server.js';
import { type Clock, SystemClock, type TimerHandle } from '../services/clock.js';
import { GovernanceSystem } from '../services/governor/governance-system.js';

const CONNECTIONS = 32;
const ROUND_SECONDS = 6;
const ROUNDS = 3;
const WARMUP_SECONDS = 2;
/** Each server's CPU is also read over this long without load (the governor's heartbeat). */
const IDLE_SECONDS = 2;
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
  | { type: 'lateness'; maxMs: number; beats: number }
  | { type: 'cpu'; micros: number };
type ParentMessage = { type: 'measure' } | { type: 'report' } | { type: 'cpu' };

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

/** Answers the parent's { type: 'cpu' } with this process's CPU time so far (user + system). */
function answerCpu(message: ParentMessage): void {
  if (message.type !== 'cpu') return;
  const usage = process.cpuUsage();
  send({ type: 'cpu', micros: usage.user + usage.system });
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
  process.on('message', answerCpu);
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
  process.on('message', answerCpu);
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'report') {
      server.close();
      server.closeAllConnections();
      process.disconnect();
    }
  });
}

function startChild(role: 'governor' | 'bare'): Promise<Server> {
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

function nextMessage<T extends ChildMessage['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve) => {
    const onMessage = (message: ChildMessage): void => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      resolve(message as Extract<ChildMessage, { type: T }>);
    };
    child.on('message', onMessage);
  });
}

/** The server process's CPU time so far, in microseconds. */
async function cpuMicros(child: ChildProcess): Promise<number> {
  const answer = nextMessage(child, 'cpu');
  child.send({ type: 'cpu' } satisfies ParentMessage);
  return (await answer).micros;
}

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
}

interface Totals {
  requests: number;
  seconds: number;
  p99Ms: number;
  failures: number;
  cpuMicros: number;
}

function emptyTotals(): Totals {
  return { requests: 0, seconds: 0, p99Ms: 0, failures: 0, cpuMicros: 0 };
}

async function load(server: Server, seconds: number, totals: Totals | null): Promise<void> {
  const cpuBefore = await cpuMicros(server.child);
  const result = await autocannon({ url: server.url, connections: CONNECTIONS, duration: seconds });
  const cpuAfter = await cpuMicros(server.child);
  if (totals === null) return;
  totals.requests += result.requests.total;
  totals.seconds += seconds;
  totals.p99Ms = Math.max(totals.p99Ms, result.latency.p99);
  totals.failures += result.errors + result.timeouts + result.non2xx;
  totals.cpuMicros += cpuAfter - cpuBefore;
}

/** The share of one core each server uses without load, over IDLE_SECONDS. */
async function idleCpuShares(servers: readonly Server[]): Promise<number[]> {
  const before = await Promise.all(servers.map((server) => cpuMicros(server.child)));
  await sleep(IDLE_SECONDS * 1_000);
  const after = await Promise.all(servers.map((server) => cpuMicros(server.child)));
  return after.map((micros, index) => (micros - (before[index] ?? 0)) / (IDLE_SECONDS * 1e6));
}

function row(name: string, totals: Totals): string {
  const rate = totals.requests / totals.seconds;
  const cpuPerRequest = totals.cpuMicros / totals.requests;
  const cpuShare = totals.cpuMicros / (totals.seconds * 1e6);
  return `${name}${rate.toFixed(0).padStart(8)} req/s   p99 ${totals.p99Ms} ms   CPU ${cpuPerRequest.toFixed(1)} µs/req (${(cpuShare * 100).toFixed(0)} % of a core)   failures ${totals.failures}`;
}

async function main(): Promise<void> {
  const governor = await startChild('governor');
  const bare = await startChild('bare');
  await load(bare, WARMUP_SECONDS, null);
  await load(governor, WARMUP_SECONDS, null);
  const [governorIdle = 0, bareIdle = 0] = await idleCpuShares([governor, bare]);
  governor.child.send({ type: 'measure' } satisfies ParentMessage);
  const api = emptyTotals();
  const baseline = emptyTotals();
  // Which server goes first alternates, so neither always follows the other's load.
  for (let round = 0; round < ROUNDS; round++) {
    const order: Array<[Server, Totals]> = [
      [bare, baseline],
      [governor, api],
    ];
    if (round % 2 === 1) order.reverse();
    for (const [server, totals] of order) await load(server, ROUND_SECONDS, totals);
  }
  const lateness = nextMessage(governor.child, 'lateness');
  governor.child.send({ type: 'report' } satisfies ParentMessage);
  bare.child.send({ type: 'report' } satisfies ParentMessage);
  const report = await lateness;

  const ratio = api.requests / api.seconds / (baseline.requests / baseline.seconds);
  const cpuRatio = api.cpuMicros / api.requests / (baseline.cpuMicros / baseline.requests);
  const lines = [
    `autocannon: ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${ROUND_SECONDS} s each`,
    row('GET /api/health (governor)  ', api),
    row('bare node:http fixed JSON   ', baseline),
    `req/s ratio ${ratio.toFixed(3)} (target >= ${RATIO_TARGET}) ${ratio >= RATIO_TARGET ? 'OK' : 'MISSED'}`,
    `CPU per request ratio ${cpuRatio.toFixed(3)} (governor / bare)`,
    `idle CPU: governor ${(governorIdle * 100).toFixed(1)} % of a core (heartbeat every ${HEARTBEAT_INTERVAL_MS} ms), bare ${(bareIdle * 100).toFixed(1)} %`,
    `heartbeat: ${report.beats} beats under load, largest lateness ${report.maxMs.toFixed(1)} ms (target < ${LATENESS_TARGET_MS} ms) ${report.maxMs < LATENESS_TARGET_MS ? 'OK' : 'MISSED'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (api.failures > 0) process.exitCode = 1;
}

const role = process.argv[2];
if (role === 'governor') await serveGovernor();
else if (role === 'bare') serveBare();
else await main();
