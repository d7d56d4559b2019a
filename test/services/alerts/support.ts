/**
 * Test support for alert delivery: a local HTTP receiver (node:http on 127.0.0.1) that records
 * what arrives and can be down, refuse or hang; a real Prometheus Alertmanager in a temporary
 * directory; and `waitFor`, which polls a condition a bounded number of times.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
  /** performance.now() when the request body had fully arrived. */
  readonly arrivedAtMs: number;
}

export type ReceiverMode = 'ok' | 'hang' | { status: number };

export interface Receiver {
  readonly url: string;
  readonly port: number;
  readonly received: Received[];
  mode: ReceiverMode;
  /** Stops listening (connections are refused) until `start()`. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const state = { mode: 'ok' as ReceiverMode };
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      received.push({
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body,
        arrivedAtMs: performance.now(),
      });
      const mode = state.mode;
      if (mode === 'hang') {
        hanging.push(response);
        return;
      }
      response.statusCode = mode === 'ok' ? 200 : mode.status;
      response.end('{}');
    });
  };
  let server = createServer(handler);
  const port = await listen(server, 0);
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    get mode() {
      return state.mode;
    },
    set mode(mode: ReceiverMode) {
      state.mode = mode;
    },
    async stop() {
      await closeServer(server);
    },
    async start() {
      server = createServer(handler);
      await listen(server, port);
    },
    async close() {
      for (const response of hanging) response.destroy();
      await closeServer(server);
    },
  };
}

/** Polls `condition` every `intervalMs` (real time), at most `turns` times; throws if never true. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  options: { turns?: number; intervalMs?: number } = {},
): Promise<void> {
  const turns = options.turns ?? 250;
  for (let turn = 0; turn < turns; turn++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
  throw new Error(`gave up waiting for ${what} after ${turns} polls`);
}

export const ALERTMANAGER_BINARY = '/usr/bin/prometheus-alertmanager';

export function alertmanagerAvailable(): boolean {
  return existsSync(ALERTMANAGER_BINARY);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningAlertmanager {
  readonly url: string;
  /** GET /api/v2/alerts with optional `filter` matchers such as `dedup_key="k"`. */
  alerts(filters?: string[], active?: boolean): Promise<AlertmanagerAlert[]>;
  stop(): Promise<void>;
}

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: string };
}

const ALERTMANAGER_CONFIG = `route:
  receiver: blackhole
  group_wait: 1s
receivers:
  - name: blackhole
`;

/** Starts Alertmanager on 127.0.0.1 with a temporary config and storage; waits for /-/ready. */
export async function startAlertmanager(): Promise<RunningAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'governor-alertmanager-'));
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(config, ALERTMANAGER_CONFIG);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(
      ALERTMANAGER_BINARY,
      [
        `--config.file=${config}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4_000);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (await becomesReady(url, child)) {
      return {
        url,
        async alerts(filters = [], active = true) {
          const query = new URLSearchParams({ active: String(active) });
          for (const filter of filters) query.append('filter', filter);
          const response = await fetch(`${url}/api/v2/alerts?${query}`, {
            signal: AbortSignal.timeout(5_000),
          });
          return (await response.json()) as AlertmanagerAlert[];
        },
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    if (attempt === 3) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`Alertmanager did not become ready: ${stderr}`);
    }
  }
  throw new Error('unreachable');
}

async function becomesReady(url: string, child: ChildProcess): Promise<boolean> {
  for (let poll = 0; poll < 150; poll++) {
    if (child.exitCode !== null) return false;
    try {
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
