/**
 * Goal: slow clients cannot blind monitoring (the issue "Slow clients blind monitoring": one
 * local process holding 256 silent or slow connections made `/readyz` answer 0 of 30 probes).
 * While another process holds 300 sockets from 127.0.0.1 for 15 s, half silent and half
 * sending a head one line a second, reopening whatever the server closes, every `/readyz`
 * probe on a fresh connection from the same address is answered. The figures (probe
 * latencies, p99, the attacker's counts) go to test-artifacts/slowloris.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { CONNECTIONS_PER_ADDRESS_MAX } from '../../../services/api/connection-guard.js';
import { type ApiHarness, apiIn } from './api-support.js';
import { type ProbeResult, probe, quantile, type SlowlorisFigures } from './slow-clients.js';

const SLOW_SOCKETS = 300;
const ATTACK_SECONDS = 15;
const TRICKLE_MS = 1_000;
const RECONNECT_DELAY_MS = 50;
const PROBE_GAP_MS = 100;
/** Generous: a probe that takes this long counts as unanswered (kubelet's default is 1 s). */
const PROBE_TIMEOUT_MS = 10_000;

type AttackerMessage =
  | { type: 'holding'; open: number }
  | { type: 'figures'; figures: SlowlorisFigures };

let current: ApiHarness | undefined;
let attacker: ChildProcess | undefined;
afterEach(async () => {
  attacker?.kill();
  attacker = undefined;
  await current?.cleanup();
  current = undefined;
});

function startAttacker(port: number): ChildProcess {
  const fixture = join(import.meta.dirname, 'fixtures', 'slowloris.ts');
  const args = [port, SLOW_SOCKETS, TRICKLE_MS, RECONNECT_DELAY_MS].map(String);
  return spawn(process.execPath, ['--import', 'tsx', fixture, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function nextMessage<T extends AttackerMessage['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<AttackerMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`attacker exited (${code})`));
    child.once('exit', onExit);
    const onMessage = (message: AttackerMessage): void => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as Extract<AttackerMessage, { type: T }>);
    };
    child.on('message', onMessage);
  });
}

describe('a bounded slowloris from the probes own address', () => {
  it(`every /readyz probe is answered while ${SLOW_SOCKETS} slow sockets are held for ${ATTACK_SECONDS} s`, async () => {
    current = await apiIn('AGGRESSIVE');
    attacker = startAttacker(Number(new URL(current.api.url).port));
    const holding = await nextMessage(attacker, 'holding');
    const probes: ProbeResult[] = [];
    const endMs = performance.now() + ATTACK_SECONDS * 1_000;
    while (performance.now() < endMs) {
      probes.push(await probe(`${current.api.url}/readyz`, PROBE_TIMEOUT_MS));
      await sleep(PROBE_GAP_MS);
    }
    const figuresMessage = nextMessage(attacker, 'figures');
    attacker.send({ type: 'stop' });
    const attack = (await figuresMessage).figures;

    const latencies = probes.map((result) => result.latencyMs);
    const failed = probes.filter((result) => result.status !== 200);
    const figures = {
      slowSockets: SLOW_SOCKETS,
      attackSeconds: ATTACK_SECONDS,
      trickleMs: TRICKLE_MS,
      reconnectDelayMs: RECONNECT_DELAY_MS,
      connectionsPerAddressMax: CONNECTIONS_PER_ADDRESS_MAX,
      probes: probes.length,
      answered: probes.length - failed.length,
      failures: failed.slice(0, 5),
      latencyMs: {
        p50: round(quantile(latencies, 0.5)),
        p99: round(quantile(latencies, 0.99)),
        max: round(Math.max(...latencies)),
      },
      attacker: { ...attack, openWhenHolding: holding.open },
    };
    mkdirSync('test-artifacts', { recursive: true });
    writeFileSync('test-artifacts/slowloris.json', `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`slowloris: ${JSON.stringify(figures)}`);

    expect(probes.length).toBeGreaterThan(0);
    expect(failed, JSON.stringify(failed.slice(0, 5))).toEqual([]);
  }, 60_000);
});

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
