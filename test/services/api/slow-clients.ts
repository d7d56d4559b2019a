/**
 * Test support for the connection bounds: raw TCP clients that connect and then stay silent or
 * send a request head one header line at a time, a slowloris that holds a set number of them
 * (reopening each one the server closes), and a probe that times one request on a fresh
 * connection.
 */
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';

export type SlowKind = 'silent' | 'slow-header';

/** One line of a request head that never ends, sent every `trickleMs`. */
export const TRICKLE_LINE = 'X-Slow: a\r\n';

export interface SlowClient {
  readonly kind: SlowKind;
  readonly socket: Socket;
  /** What the server sent before it closed the connection. */
  received(): string;
  /** Resolves with the milliseconds from connect to close (by either side). */
  readonly closed: Promise<number>;
}

/** Connects; a 'slow-header' client then starts a head and adds one line every `trickleMs`. */
export function openSlowClient(port: number, kind: SlowKind, trickleMs: number): SlowClient {
  const socket = connect({ port, host: '127.0.0.1' });
  let connectedAtMs = performance.now();
  let received = '';
  let trickle: NodeJS.Timeout | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  socket.on('error', () => {});
  socket.once('connect', () => {
    connectedAtMs = performance.now();
    if (kind !== 'slow-header') return;
    socket.write('GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    trickle = setInterval(() => socket.write(TRICKLE_LINE), trickleMs);
  });
  const closed = new Promise<number>((resolve) => {
    socket.once('close', () => {
      clearInterval(trickle);
      resolve(performance.now() - connectedAtMs);
    });
  });
  return { kind, socket, received: () => received, closed };
}

export interface AnsweredClient {
  /** Milliseconds from connect to the end of the first response. */
  readonly answered: Promise<number>;
  /** Milliseconds from connect to close (by either side). */
  readonly closed: Promise<number>;
  /** What the server sent, responses and all. */
  received(): string;
}

/**
 * Connects, sends `request` (a complete head, which may announce a body), and once the
 * response has arrived sends `trickle` every `trickleMs` (nothing when `trickle` is empty).
 */
export function requestThenTrickle(
  port: number,
  request: string,
  trickle: string,
  trickleMs: number,
): AnsweredClient {
  const socket = connect({ port, host: '127.0.0.1' });
  let connectedAtMs = performance.now();
  let received = '';
  let timer: NodeJS.Timeout | undefined;
  let answer: (ms: number) => void = () => {};
  const answered = new Promise<number>((resolve) => {
    answer = resolve;
  });
  socket.setEncoding('utf8');
  socket.on('error', () => {});
  socket.once('connect', () => {
    connectedAtMs = performance.now();
    socket.write(request);
  });
  socket.on('data', (chunk: string) => {
    const complete = responseComplete(received);
    received += chunk;
    if (complete || !responseComplete(received)) return;
    answer(performance.now() - connectedAtMs);
    if (trickle.length > 0) timer = setInterval(() => socket.write(trickle), trickleMs);
  });
  const closed = new Promise<number>((resolve) => {
    socket.once('close', () => {
      clearInterval(timer);
      resolve(performance.now() - connectedAtMs);
    });
  });
  return { answered, closed, received: () => received };
}

/** True once `text` holds a response head and the body its Content-Length announces. */
function responseComplete(text: string): boolean {
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd === -1) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, headEnd))?.[1];
  return Buffer.byteLength(text.slice(headEnd + 4)) >= Number(length ?? 0);
}

export interface SlowlorisFigures {
  readonly sockets: number;
  readonly connects: number;
  readonly closedByServer: number;
  /** The most sockets connected at once, as the client sees it. */
  readonly openMax: number;
  readonly openAtStop: number;
}

export interface Slowloris {
  /** Resolves once every socket of the first wave has connected or failed. */
  readonly settled: Promise<void>;
  /** Sockets connected and not yet closed. */
  open(): number;
  /** Closes every socket and stops reopening them. */
  stop(): SlowlorisFigures;
}

/**
 * Holds `sockets` connections, alternately silent and slow-header; one the server closes is
 * reopened after `reconnectDelayMs`, as a slowloris tool does.
 */
export function startSlowloris(
  port: number,
  sockets: number,
  trickleMs: number,
  reconnectDelayMs: number,
): Slowloris {
  const live = new Set<SlowClient>();
  let connects = 0;
  let closedByServer = 0;
  let open = 0;
  let openMax = 0;
  let firstWave = sockets;
  let settle: () => void = () => {};
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  let stopped = false;
  const start = (kind: SlowKind, inFirstWave: boolean): void => {
    const client = openSlowClient(port, kind, trickleMs);
    let connected = false;
    const settleOne = (): void => {
      if (inFirstWave && --firstWave === 0) settle();
    };
    connects++;
    live.add(client);
    client.socket.once('connect', () => {
      connected = true;
      openMax = Math.max(openMax, ++open);
      settleOne();
    });
    void client.closed.then(() => {
      live.delete(client);
      if (connected) open--;
      else settleOne();
      if (stopped) return;
      closedByServer++;
      setTimeout(() => {
        if (!stopped) start(kind, false);
      }, reconnectDelayMs);
    });
  };
  for (let i = 0; i < sockets; i++) start(i % 2 === 0 ? 'silent' : 'slow-header', true);
  return {
    settled,
    open: () => open,
    stop: () => {
      stopped = true;
      const openAtStop = open;
      for (const client of live) client.socket.destroy();
      return { sockets, connects, closedByServer, openMax, openAtStop };
    },
  };
}

export interface ProbeResult {
  /** HTTP status, or 0 when the request failed (refused, reset, timed out). */
  readonly status: number;
  readonly latencyMs: number;
  readonly error?: string;
}

/** One GET on a fresh connection (as kubelet probes), failing after `timeoutMs`. */
export function probe(url: string, timeoutMs: number): Promise<ProbeResult> {
  const startMs = performance.now();
  return new Promise((resolve) => {
    const request = httpRequest(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      response.once('end', () =>
        resolve({ status: response.statusCode ?? 0, latencyMs: performance.now() - startMs }),
      );
    });
    request.once('timeout', () => request.destroy(new Error('probe timed out')));
    request.once('error', (error) =>
      resolve({ status: 0, latencyMs: performance.now() - startMs, error: error.message }),
    );
    request.end();
  });
}

/** The `fraction` quantile (0 to 1) of `values` by the nearest-rank method. */
export function quantile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}
