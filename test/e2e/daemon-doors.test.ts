/**
 * Goal: the daemon's doors hold under the issue "Hostile conditions". Idle control-socket
 * connections cannot lock operators out: a newcomer evicts the longest-waiting idle connection,
 * a connection trickling its request is closed at its deadline, `status` retries within its
 * bound and still answers live, and the kill switch lands. A configured health API that cannot
 * start (a real busy port, a token too short) stops `governor run` with exit 2 before the
 * database is opened, so no capital is ever deployable and Prometheus never reads another
 * governor.
 */
import { existsSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CONTROL_CONNECTIONS_MAX,
  type ControlServer,
  sendControlRequest,
  startControlServer,
} from '../../services/cli/control-channel.js';
import { CliSandbox, E2E_CONFIG_YAML } from './cli-harness.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function sandbox(config?: string): CliSandbox {
  const created = new CliSandbox(config);
  cleanups.push(() => created.cleanup());
  return created;
}

/** Opens `count` connections that never send a byte; each one closed is opened again. */
function holdIdleConnections(
  socketPath: string,
  count: number,
): { connected(): number; evicted(): number; stop(): void } {
  const sockets = new Set<Socket>();
  let evicted = 0;
  let stopped = false;
  const open = (): void => {
    if (stopped) return;
    const socket = createConnection(socketPath);
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      if (stopped) return;
      evicted++;
      // A pause before coming back: an attacker, not a busy loop on this machine.
      setTimeout(open, 50);
    });
  };
  for (let index = 0; index < count; index++) open();
  return {
    connected: () => [...sockets].filter((socket) => !socket.connecting).length,
    evicted: () => evicted,
    stop: () => {
      stopped = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}

async function until(what: string, predicate: () => boolean): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the control socket cannot be blocked by idle connections', () => {
  it('regression: with 16 idle control connections held, governor shutdown exited 6 (EPIPE) and the daemon stayed AGGRESSIVE; now status answers live and the kill switch lands', async () => {
    const box = sandbox();
    const daemon = box.startDaemon(['--demo']);
    await box.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', daemon);
    const socketPath = join(box.dir, '.governor.db.control', 'governor.sock');
    const holder = holdIdleConnections(socketPath, CONTROL_CONNECTIONS_MAX * 2);
    cleanups.push(() => holder.stop());
    await until('the idle connections', () => holder.connected() >= CONTROL_CONNECTIONS_MAX);

    const status = await box.run(['status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ source: 'live', state: 'AGGRESSIVE' });

    const kill = await box.run(['shutdown', '--operator', 'ivan', '--reason', 'idle flood drill']);
    expect(kill.code).toBe(0);
    expect(kill.stdout).toMatch(/governor is now SHUTDOWN \(confirmed by owner pid/);
    const after = await box.run(['status', '--json']);
    expect(JSON.parse(after.stdout)).toMatchObject({ source: 'live', state: 'SHUTDOWN' });
    // The flood was real: the daemon closed idle connections to let the commands in.
    expect(holder.evicted()).toBeGreaterThan(0);
    holder.stop();
    expect(await box.stopDaemon(daemon)).toBe(0);
  });
});

describe('the control server', () => {
  const directory = (): string => {
    const box = sandbox();
    return join(box.dir, '.ctl');
  };
  const started = async (
    handler: () => Promise<unknown> = async () => ({ pong: true }),
  ): Promise<ControlServer> => {
    const server = await startControlServer(join(directory(), 'governor.sock'), handler);
    cleanups.push(() => server.close());
    return server;
  };

  it('a newcomer beyond the limit evicts the idle connection that waited longest', async () => {
    const server = await started();
    const idle: Socket[] = [];
    const closed: number[] = [];
    for (let index = 0; index < CONTROL_CONNECTIONS_MAX; index++) {
      const socket = createConnection(server.socketPath);
      socket.on('error', () => {});
      socket.on('close', () => closed.push(index));
      idle.push(socket);
      await new Promise((resolve) => socket.once('connect', resolve));
    }
    cleanups.push(() => {
      for (const socket of idle) socket.destroy();
    });
    await until('all connections admitted', () => server.connections() === CONTROL_CONNECTIONS_MAX);
    const response = await sendControlRequest(server.socketPath, { command: 'ping' });
    expect(response).toEqual({ ok: true, result: { pong: true } });
    await until('the oldest idle connection closed', () => closed.length > 0);
    expect(closed[0]).toBe(0);
    expect(server.connections()).toBeLessThanOrEqual(CONTROL_CONNECTIONS_MAX);
  });

  it('a connection that trickles its request without ending it is closed at its deadline', async () => {
    const server = await started();
    const socket = createConnection(server.socketPath);
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    const trickle = setInterval(() => socket.write(' '), 200);
    cleanups.push(() => clearInterval(trickle));
    await new Promise((resolve) => socket.once('close', resolve));
    clearInterval(trickle);
    await until('the slot released', () => server.connections() === 0);
  });

  it('when every connection is busy, a newcomer is closed, and answered once one is free', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let handling = 0;
    const server = await started(async () => {
      handling++;
      await gate;
      return { done: true };
    });
    cleanups.push(() => release());
    const busy = Array.from({ length: CONTROL_CONNECTIONS_MAX }, () =>
      sendControlRequest(server.socketPath, { command: 'ping' }, { timeoutMs: 60_000 }),
    );
    await until('every connection busy', () => handling === CONTROL_CONNECTIONS_MAX);
    // Closed or reset, depending on how far the newcomer got: either way a retry may succeed.
    await expect(sendControlRequest(server.socketPath, { command: 'ping' })).rejects.toMatchObject({
      retryable: true,
    });
    release();
    for (const response of await Promise.all(busy)) expect(response.ok).toBe(true);
    await until('a slot free', () => server.connections() < CONTROL_CONNECTIONS_MAX);
    expect(await sendControlRequest(server.socketPath, { command: 'ping' })).toEqual({
      ok: true,
      result: { done: true },
    });
  });
});

/** A TCP port held by another program for the length of a test. */
async function busyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: address.port, server };
}

const withApi = (lines: string): string =>
  E2E_CONFIG_YAML.replace('api:\n  enabled: false\n', `api:\n  enabled: true\n${lines}`);

describe('a health API that cannot start stops the daemon before anything starts', () => {
  it('regression: a busy API port (EADDRINUSE) was only logged and the daemon went AGGRESSIVE; now run exits 2 naming api.port, and no database is opened', async () => {
    const { port } = await busyPort();
    const box = sandbox(withApi(`  host: 127.0.0.1\n  port: ${port}\n`));
    const result = await box.run(['run', '--demo']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(
        `api\\.port: the health API cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`,
      ),
    );
    expect(result.stdout).not.toMatch(/AGGRESSIVE/);
    expect(existsSync(box.dbPath)).toBe(false);
  });

  it('regression: a bearer token too short was only logged; now run exits 2 naming the variable, and no database is opened', async () => {
    const box = sandbox(withApi('  host: 127.0.0.1\n  port: 0\n'));
    const result = await box.run(['run', '--demo'], { env: { GOVERNOR_API_TOKEN: 'short' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/GOVERNOR_API_TOKEN: expected 16 to 1024 token68 characters/);
    expect(existsSync(box.dbPath)).toBe(false);
    const check = await box.run(['config', 'check'], { env: { GOVERNOR_API_TOKEN: 'short' } });
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(/GOVERNOR_API_TOKEN/);
  });
});
