/**
 * Inspection: transitions are always logged as `{ from, to, event }`; the live inspector is
 * opt-in, loopback-only, and when off it loads nothing, connects nowhere and holds nothing open.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { governorMachine, type StartupReport } from '../../machines/index.js';
import { SimulatedClock } from '../../services/clock.js';
import {
  combineInspectors,
  createLiveInspector,
  liveInspectionEnabled,
  transitionLogger,
} from '../../services/inspection.js';

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(here, '../..');

function passingMachine() {
  return governorMachine.provide({
    actors: {
      startupChecks: fromPromise<StartupReport, { lifecycleId: string; visit: number }>(
        async ({ input }) => ({
          ...input,
          passed: true,
          results: [],
          completedAt: '2026-01-01T00:00:00.000Z',
        }),
      ),
    },
  });
}

const input = {
  lifecycleId: 'inspection',
  configuredMode: 'AGGRESSIVE',
  desiredMode: 'AGGRESSIVE',
  hold: null,
  latch: null,
  startupChecksTimeoutMs: 30_000,
} as const;

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function capturingLogger(): { logger: pino.Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      records.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), records };
}

/** Runs the child fixture and resolves with its exit code and parsed report once it exits. */
function runChild(env: NodeJS.ProcessEnv, blockInspectPackage: boolean) {
  const blocker =
    'export async function resolve(specifier, context, next) {' +
    " if (specifier.startsWith('@statelyai/inspect')) throw new Error('blocked import: ' + specifier);" +
    ' return next(specifier, context); }';
  const register =
    "import { register } from 'node:module';" +
    `register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(blocker)}`)});`;
  const args = ['--import', 'tsx'];
  if (blockInspectPackage)
    args.push('--import', `data:text/javascript,${encodeURIComponent(register)}`);
  args.push(join(here, 'fixtures/inspection-off-child.ts'));
  const child = spawn(process.execPath, args, {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

describe('transitionLogger', () => {
  it('logs every transition as { from, to, event }', async () => {
    // Goal: the always-on log names each transition, including the start of the lifecycle.
    const { logger, records } = capturingLogger();
    const actor = createActor(passingMachine(), {
      input,
      clock: new SimulatedClock(),
      inspect: transitionLogger(logger),
    });
    actor.start();
    actor.send({ type: 'lifecycle.start', at: '2026-01-01T00:00:00.000Z' });
    await settle();
    actor.send({ type: 'heartbeat.lost', reason: 'test', at: '2026-01-01T00:00:00.000Z' });
    actor.send({
      type: 'integrity.violated',
      reason: 'ignored in OBSERVE_ONLY',
      at: '2026-01-01T00:00:00.000Z',
    });
    actor.send({
      type: 'failsafe.triggered',
      trigger: 'MARKET_DATA_STALL',
      reason: 'test',
      at: '2026-01-01T00:00:00.000Z',
    });
    const transitions = records.map(({ from, to, event, msg }) => ({ from, to, event, msg }));
    expect(transitions).toEqual([
      { from: 'STARTING', to: 'CHECKING', event: 'lifecycle.start', msg: 'transition' },
      {
        from: 'CHECKING',
        to: 'AGGRESSIVE',
        event: 'xstate.done.actor.startupChecks',
        msg: 'transition',
      },
      { from: 'AGGRESSIVE', to: 'OBSERVE_ONLY', event: 'heartbeat.lost', msg: 'transition' },
      { from: 'OBSERVE_ONLY', to: 'SHUTDOWN', event: 'failsafe.triggered', msg: 'transition' },
    ]);
  });

  it('combines with other inspectors, skipping absent ones', () => {
    // Goal: the shell can always pass combineInspectors(logger, live?.inspect, extra).
    const seen: string[] = [];
    const combined = combineInspectors(null, (event) => seen.push(event.type), undefined);
    createActor(passingMachine(), {
      input,
      clock: new SimulatedClock(),
      inspect: combined,
    }).start();
    expect(seen).toContain('@xstate.actor');
  });
});

describe('live inspection switch', () => {
  it('is off unless the option or GOVERNOR_INSPECT=1 turns it on; the option wins', async () => {
    // Goal: opt-in only, and an explicit `enabled: false` beats the environment.
    expect(liveInspectionEnabled({ env: {} })).toBe(false);
    expect(liveInspectionEnabled({ env: { GOVERNOR_INSPECT: '0' } })).toBe(false);
    expect(liveInspectionEnabled({ env: { GOVERNOR_INSPECT: '1' } })).toBe(true);
    expect(liveInspectionEnabled({ enabled: false, env: { GOVERNOR_INSPECT: '1' } })).toBe(false);
    expect(liveInspectionEnabled({ enabled: true, env: {} })).toBe(true);
    expect(await createLiveInspector({ env: {} })).toBeNull();
    await expect(createLiveInspector({ enabled: true, host: '0.0.0.0' })).rejects.toThrow(
      TypeError,
    );
  });
});

describe('live inspection off', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('opens no connection in this process', async () => {
    // Goal: with inspection off, running the machine never calls net connect.
    const socketConnect = vi.spyOn(net.Socket.prototype, 'connect');
    const netConnect = vi.spyOn(net, 'connect');
    const live = await createLiveInspector({ env: { GOVERNOR_INSPECT: '0' } });
    const { logger } = capturingLogger();
    const actor = createActor(passingMachine(), {
      input,
      clock: new SimulatedClock(),
      inspect: combineInspectors(transitionLogger(logger), live?.inspect),
    }).start();
    await settle();
    actor.send({
      type: 'operator.observe',
      operator: 'alice',
      reason: 'test',
      at: '2026-01-01T00:00:00.000Z',
    });
    expect(live).toBeNull();
    expect(socketConnect).not.toHaveBeenCalled();
    expect(netConnect).not.toHaveBeenCalled();
  });

  it('lets a process that runs the machine exit by itself, without loading @statelyai/inspect', async () => {
    // Goal: a child that cannot even resolve @statelyai/inspect runs the machine with
    // inspection off, makes no connection, holds no socket or timer, and exits on its own.
    const env = { ...process.env, GOVERNOR_INSPECT: '0' };
    const result = await runChild(env, true);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      live: string | null;
      state: string;
      connectAttempts: number;
      resources: string[];
      transitions: unknown[];
    };
    expect(report.live).toBeNull();
    expect(['CHECKING', 'AGGRESSIVE']).toContain(report.state);
    expect(report.connectAttempts).toBe(0);
    expect(report.resources.filter((name) => /TCP|Timeout|Immediate|UDP/.test(name))).toEqual([]);
    expect(report.transitions.length).toBeGreaterThanOrEqual(3);
  });

  it('is proven by a positive control: switched on, the same child does load the package', async () => {
    // Goal: the import blocker of the previous test works, so its silence means something.
    const env = { ...process.env, GOVERNOR_INSPECT: '1' };
    const result = await runChild(env, true);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('blocked import: @statelyai/inspect');
  });
});

async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function connectOutcome(host: string, port: number): Promise<'connected' | string> {
  return new Promise((done) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      done('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'error'));
  });
}

function httpGet(url: string): Promise<string> {
  return new Promise((done, fail) => {
    http
      .get(url, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on('end', () => done(body));
      })
      .on('error', fail);
  });
}

/** A raw WebSocket client (the bridge relays to every other client): resolves on `needle`. */
function receiveFromBridge(
  port: number,
  needle: string,
): { received: Promise<void>; close(): void } {
  const request = http.request({
    host: '127.0.0.1',
    port,
    headers: {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Key': Buffer.from('governor-inspect').toString('base64'),
      'Sec-WebSocket-Version': '13',
    },
  });
  let socket: net.Socket | undefined;
  const received = new Promise<void>((done, fail) => {
    request.on('upgrade', (_response, upgraded: net.Socket, head: Buffer) => {
      socket = upgraded;
      // The bridge replays its backlog at once: it may arrive with the 101 response (`head`).
      let seen = head.toString('latin1');
      if (seen.includes(needle)) done();
      upgraded.on('data', (chunk: Buffer) => {
        seen += chunk.toString('latin1');
        if (seen.includes(needle)) done();
      });
    });
    request.on('error', fail);
  });
  request.end();
  return { received, close: () => socket?.destroy() };
}

describe('live inspection on', () => {
  it('serves the bridge on loopback only, relays inspection events, and stops cleanly', async () => {
    // Goal: opt-in works end to end, binds 127.0.0.1 (not other interfaces), and stop() closes it.
    const port = await freeLoopbackPort();
    const live = await createLiveInspector({ enabled: true, port });
    expect(live).not.toBeNull();
    if (live === null) return;
    try {
      expect(live.url).toBe(`http://127.0.0.1:${port}`);
      expect(await httpGet(live.url)).toContain('https://stately.ai/inspect');
      const others = Object.values(networkInterfaces())
        .flat()
        .filter(
          (address) => address !== undefined && address.family === 'IPv4' && !address.internal,
        );
      for (const address of others) {
        expect(await connectOutcome(address?.address ?? '', port)).toBe('ECONNREFUSED');
      }
      const viewer = receiveFromBridge(port, '@xstate.');
      const actor = createActor(passingMachine(), {
        input,
        clock: new SimulatedClock(),
        inspect: live.inspect,
      }).start();
      await viewer.received;
      viewer.close();
      actor.stop();
    } finally {
      await live.stop();
    }
    expect(await connectOutcome('127.0.0.1', port)).toBe('ECONNREFUSED');
  });
});
