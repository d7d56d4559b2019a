/**
 * `startApiServer`: the read-only health API on node:http. GET and HEAD only, exact-path
 * routing over a fixed table, an optional bearer token checked before anything else, and
 * bounds on headers, time, connections (see connection-guard.ts) and event streams. Handlers
 * only read.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isGovernorError } from '../errors.js';
import type { GovernanceSystem } from '../governor/governance-system.js';
import { componentLogger, type Logger, silentLogger } from '../logger.js';
import {
  ConnectionGuard,
  type ConnectionTimeouts,
  checkConnectionTimeouts,
  DEFAULT_CONNECTION_TIMEOUTS,
  DEFAULT_GUARD_LIMITS,
} from './connection-guard.js';
import { type DatabaseReader, openHealthReader } from './database-reader.js';
import {
  gateDocument,
  healthDocument,
  healthVerdict,
  pageView,
  readiness,
  statusDocument,
  uptimeDocument,
} from './health-views.js';
import { type ApiMetrics, createMetrics } from './metrics.js';
import { type ApiServerOptions, checkApiOptions } from './options.js';
import {
  displayView,
  fallbackSvg,
  loadStatechartSvg,
  STATUS_PAGE_CSP,
  statusPageRenderer,
} from './status-page.js';
import { STREAM_HEADERS, StatusStream } from './status-stream.js';

export {
  CONNECTIONS_CHECK_INTERVAL_MS,
  CONNECTIONS_MAX,
  CONNECTIONS_PER_ADDRESS_MAX,
  HEADERS_TIMEOUT_MS,
  KEEP_ALIVE_TIMEOUT_MS,
  REQUEST_TIMEOUT_MS,
} from './connection-guard.js';
export type { ApiServerOptions } from './options.js';

export interface ApiServer {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Ends every event stream and connection, stops listening, closes the read-only database. */
  close(): Promise<void>;
}

/** The largest request head (node:http answers 431 beyond it). */
export const HEADER_BYTES_MAX = 16_384;

export const ALLOWED_METHODS = 'GET, HEAD';
/** How long `/api/health` may serve one serialised document while its verdict holds. */
export const HEALTH_BODY_REUSE_MS = 100;
const JSON_TYPE = 'application/json; charset=utf-8';
const HEALTH_JSON_TYPE = 'application/health+json; charset=utf-8';

interface Reply {
  readonly status: number;
  readonly type: string;
  readonly body: string;
  /** The body's length in bytes, when already known. */
  readonly bytes?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

type Handler = () => Reply | Promise<Reply>;

/** On every response (as a flat name, value list: the cheapest form for writeHead). */
const BASE_HEADERS = [
  'cache-control',
  'no-store',
  'x-content-type-options',
  'nosniff',
  'referrer-policy',
  'no-referrer',
] as const;

const STREAM_RESPONSE_HEADERS = [...BASE_HEADERS, ...Object.entries(STREAM_HEADERS).flat()];

const STATUS_TEXT: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function json(status: number, value: unknown, type = JSON_TYPE): Reply {
  return { status, type, body: JSON.stringify(value) };
}

function problem(status: number, message: string, extra: Record<string, unknown> = {}): Reply {
  return json(status, {
    statusCode: status,
    error: STATUS_TEXT[status] ?? 'Error',
    message,
    ...extra,
  });
}

const NOT_FOUND = problem(404, 'no such endpoint; see docs/http-api.md');
const METHOD_NOT_ALLOWED = {
  ...problem(405, 'the health API is read-only: only GET and HEAD are allowed'),
  headers: { allow: ALLOWED_METHODS },
};
const UNAUTHORIZED = {
  ...problem(401, 'a valid Authorization: Bearer token is required'),
  headers: { 'www-authenticate': 'Bearer realm="governor"' },
};
const STREAM_FULL = {
  ...problem(503, 'too many status streams are open; retry later'),
  headers: { 'retry-after': '5' },
};

function write(response: ServerResponse, reply: Reply, head: boolean): void {
  const headers: Array<string | number> = [
    'content-type',
    reply.type,
    'content-length',
    reply.bytes ?? Buffer.byteLength(reply.body),
    ...BASE_HEADERS,
  ];
  if (reply.headers !== undefined) {
    for (const [name, value] of Object.entries(reply.headers)) headers.push(name, value);
  }
  response.writeHead(reply.status, headers);
  if (head) response.end();
  else response.end(reply.body);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Checks `Authorization: Bearer <token>` in constant time (over digests of equal length). */
function bearerCheck(token: string | null): (request: IncomingMessage) => boolean {
  if (token === null) return () => true;
  const expected = sha256(token);
  return (request) => {
    const header = request.headers.authorization;
    if (typeof header !== 'string') return false;
    const match = /^Bearer +([^\s]+) *$/i.exec(header);
    if (match === null || match[1] === undefined) return false;
    return timingSafeEqual(sha256(match[1]), expected);
  };
}

function routes(
  governance: GovernanceSystem,
  reader: DatabaseReader,
  metrics: ApiMetrics,
): ReadonlyMap<string, Handler> {
  const renderPage = statusPageRenderer(loadStatechartSvg() ?? fallbackSvg());
  return new Map<string, Handler>([
    ['/api/health', healthHandler(governance)],
    ['/api/health/status', () => json(200, statusDocument(governance.status()))],
    [
      '/api/health/gate',
      () => {
        const gate = gateDocument(governance);
        return json(gate.httpStatus, gate.body);
      },
    ],
    ['/api/health/uptime', () => json(200, uptimeDocument(governance))],
    [
      '/api/health/last_snapshot',
      () => {
        const snapshot = reader.latestSnapshot();
        if (snapshot === null) return problem(404, 'no snapshot has been written yet');
        return json(200, {
          date: snapshot.date,
          writtenAt: snapshot.writtenAt,
          data: snapshot.data,
        });
      },
    ],
    [
      '/metrics',
      async () => ({ status: 200, type: metrics.contentType, body: await metrics.render() }),
    ],
    ['/livez', () => json(200, { status: 'ok' })],
    [
      '/readyz',
      () => {
        const ready = readiness(governance, reader);
        return json(ready.httpStatus, ready.body);
      },
    ],
    [
      '/',
      () => ({
        status: 200,
        type: 'text/html; charset=utf-8',
        body: renderPage(pageView(governance.status())),
        headers: { 'content-security-policy': STATUS_PAGE_CSP, 'x-frame-options': 'DENY' },
      }),
    ],
  ]);
}

/**
 * `GET /api/health`, the endpoint monitors poll hardest: the verdict is computed on every
 * request, and the serialised document is reused while the verdict is unchanged, for at most
 * HEALTH_BODY_REUSE_MS (its `time` says when its readings were taken).
 */
function healthHandler(governance: GovernanceSystem): Handler {
  let cached: { key: string; reply: Reply; atMs: number } | null = null;
  return () => {
    const verdict = healthVerdict(governance);
    const heartbeatFresh = governance.heartbeatAgeMs() < governance.thresholds.heartbeatLossMs;
    const key = `${verdict.status}|${verdict.mode}|${verdict.gateOpen}|${heartbeatFresh}|${verdict.reasons.join('|')}`;
    const nowMs = performance.now();
    if (cached === null || cached.key !== key || nowMs - cached.atMs >= HEALTH_BODY_REUSE_MS) {
      const body = JSON.stringify(healthDocument(governance, verdict));
      const reply: Reply = {
        status: verdict.httpStatus,
        type: HEALTH_JSON_TYPE,
        body,
        bytes: Buffer.byteLength(body),
      };
      cached = { key, reply, atMs: nowMs };
    }
    return cached.reply;
  };
}

/** A handler that threw: a storage or closed-governor failure is 503, anything else 500. */
function failure(error: unknown, logger: Logger): Reply {
  logger.error({ err: error }, 'health API handler failed');
  if (isGovernorError(error)) {
    return problem(503, 'the governor could not be read', { code: error.code });
  }
  return problem(500, 'internal error');
}

/** Starts the API; resolves once it listens. See docs/http-api.md. */
export function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  return startApiServerWithTimeouts(options, DEFAULT_CONNECTION_TIMEOUTS);
}

/**
 * `startApiServer` with other connection timeouts than the documented ones: for tests, which
 * check the same rules with timeouts short enough to wait for.
 */
export async function startApiServerWithTimeouts(
  options: ApiServerOptions,
  timeouts: ConnectionTimeouts,
): Promise<ApiServer> {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, checkIntervalMs } =
    checkConnectionTimeouts(timeouts);
  const checked = checkApiOptions(options);
  const { governance } = checked;
  const logger = componentLogger(options.logger ?? silentLogger(), 'api');
  const reader = openHealthReader(governance);
  const stream = new StatusStream(
    () => displayView(pageView(governance.status())),
    (error) => logger.error({ err: error }, 'status stream view failed'),
  );
  const metrics = createMetrics(governance, reader);
  const table = routes(governance, reader, metrics);
  const authorized = bearerCheck(checked.bearerToken);

  /** Which reply a request gets before any handler runs: 401, 405, the stream, 404, or none. */
  const route = (request: IncomingMessage): Handler | Reply | 'stream' => {
    if (!authorized(request)) return UNAUTHORIZED;
    if (request.method !== 'GET' && request.method !== 'HEAD') return METHOD_NOT_ALLOWED;
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (path === '/api/health/stream') return 'stream';
    return table.get(path) ?? NOT_FOUND;
  };

  const guard = new ConnectionGuard({ ...DEFAULT_GUARD_LIMITS, headersTimeoutMs });

  /** Writes the reply and tells the guard the connection waits for its next request. */
  const respond = (response: ServerResponse, socket: Socket, reply: Reply, head: boolean): void => {
    write(response, reply, head);
    guard.responseEnded(socket);
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const socket = request.socket;
    guard.requestStarted(socket);
    const head = request.method === 'HEAD';
    const target = route(request);
    if (target === 'stream') {
      openStream(response, socket, head);
      return;
    }
    if (typeof target !== 'function') {
      respond(response, socket, target, head);
      return;
    }
    let reply: Reply | Promise<Reply>;
    try {
      reply = target();
    } catch (error) {
      reply = failure(error, logger);
    }
    if (reply instanceof Promise) {
      reply.then(
        (done) => respond(response, socket, done, head),
        (error: unknown) => respond(response, socket, failure(error, logger), head),
      );
    } else {
      respond(response, socket, reply, head);
    }
  };

  /** A stream's connection is busy (never reaped or evicted) until the stream closes. */
  const openStream = (response: ServerResponse, socket: Socket, head: boolean): void => {
    if (!head && stream.isFull()) {
      respond(response, socket, STREAM_FULL, head);
      return;
    }
    response.writeHead(200, STREAM_RESPONSE_HEADERS);
    if (head) {
      response.end();
      guard.responseEnded(socket);
      return;
    }
    response.once('close', () => guard.responseEnded(socket));
    stream.add(response);
  };

  const server = createServer(
    {
      maxHeaderSize: HEADER_BYTES_MAX,
      requestTimeout: requestTimeoutMs,
      // The guard's timer per connection is the head rule; node's own (from a head's first
      // byte, on the shared check) is left only as a backstop at the request bound.
      headersTimeout: requestTimeoutMs,
      keepAliveTimeout: keepAliveTimeoutMs,
      connectionsCheckingInterval: checkIntervalMs,
    },
    handle,
  );
  // The guard, not server.maxConnections, bounds the sockets: node:http would drop a new
  // connection at the limit, where the guard closes a slow one to make room for it.
  server.on('connection', (socket: Socket) => guard.admit(socket));
  const unsubscribe = governance.onModeChange(() => stream.queueBroadcast());
  try {
    await listen(server, checked.port, checked.host);
  } catch (error) {
    unsubscribe();
    metrics.close();
    stream.close();
    reader.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${address.port}`,
    close: () => {
      closing ??= closeServer(server, () => {
        unsubscribe();
        metrics.close();
        stream.close();
      }).finally(() => reader.close());
      return closing;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server, beforeClose: () => void): Promise<void> {
  return new Promise((resolve) => {
    beforeClose();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
