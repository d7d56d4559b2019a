/**
 * Benchmark: trigger to first delivery attempt. A fail-safe shutdown is triggered on a real
 * GovernanceSystem (file database, synchronous=FULL) whose webhook sink posts to a local receiver
 * (node:http on 127.0.0.1) that records the arrival time; p50 and p99 over ≥ 100 trials, against a
 * baseline measured in the same run, interleaved: a bare `fetch` POST of the same payload to the
 * same receiver. Target p99 < 1 s (MiFID II RTS 6 Art. 16 allows 5 s).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GovernanceSystem, webhookSink } from '../index.js';
import { webhookPayload } from '../services/alerts/sinks/webhook-sink.js';

const TRIALS = 200;
const WARMUP = 10;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

/** A receiver that resolves the pending waiter with the arrival time of each request. */
function startReceiver(): Promise<{ url: string; next: () => Promise<number>; close: () => void }> {
  let waiter: ((arrivedAtMs: number) => void) | null = null;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      const arrivedAtMs = performance.now();
      response.end('{}');
      const resolve = waiter;
      waiter = null;
      resolve?.(arrivedAtMs);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}/hook`,
        next: () =>
          new Promise<number>((arrived) => {
            waiter = arrived;
          }),
        close: () => {
          server.closeAllConnections();
          server.close();
        },
      });
    });
  });
}

async function governorTrial(dir: string, trial: number, url: string, next: () => Promise<number>) {
  const gov = new GovernanceSystem({
    dbPath: join(dir, `g${trial}.db`),
    alertSinks: [webhookSink({ url })],
  });
  const arrival = next();
  const startMs = performance.now();
  gov.failSafeManager.triggerShutdown('UNRECOVERABLE_EXCEPTION', `benchmark trial ${trial}`);
  const arrivedAtMs = await arrival;
  await gov.alertManager.flush();
  const alert = gov.alertManager.getAlerts()[0];
  gov.close();
  if (alert === undefined) throw new Error('no alert raised');
  return { latencyMs: arrivedAtMs - startMs, payload: webhookPayload(alert, 'firing') };
}

async function baselineTrial(url: string, next: () => Promise<number>, payload: unknown) {
  const arrival = next();
  const startMs = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(5_000),
  });
  await response.body?.cancel();
  return (await arrival) - startMs;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'governor-bench-alerts-'));
  const receiver = await startReceiver();
  const governor: number[] = [];
  const baseline: number[] = [];
  try {
    for (let trial = 0; trial < WARMUP + TRIALS; trial++) {
      const { latencyMs, payload } = await governorTrial(dir, trial, receiver.url, receiver.next);
      const bare = await baselineTrial(receiver.url, receiver.next, payload);
      if (trial >= WARMUP) {
        governor.push(latencyMs);
        baseline.push(bare);
      }
    }
  } finally {
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const f = (ms: number) => ms.toFixed(2).padStart(7);
  console.log(
    `bench/alerts: trigger -> first delivery attempt at a local receiver, ${TRIALS} trials`,
  );
  console.log(
    `  governor (triggerShutdown, outbox, webhook)  p50 ${f(percentile(governor, 50))} ms   p99 ${f(percentile(governor, 99))} ms`,
  );
  console.log(
    `  baseline (bare fetch POST, same payload)     p50 ${f(percentile(baseline, 50))} ms   p99 ${f(percentile(baseline, 99))} ms`,
  );
  const p99 = percentile(governor, 99);
  console.log(
    `  ratio p50 ${(percentile(governor, 50) / percentile(baseline, 50)).toFixed(2)}   ratio p99 ${(p99 / percentile(baseline, 99)).toFixed(2)}`,
  );
  console.log(`  target p99 < 1000 ms: ${p99 < 1_000 ? 'PASS' : 'MISS'}`);
}

await main();
