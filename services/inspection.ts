/**
 * Observing the statechart through XState's `inspect` option: `transitionLogger` logs every
 * transition as pino `{ from, to, event }` (always on), and `createLiveInspector` is the opt-in,
 * loopback-only live view with @statelyai/inspect, loaded only when it is switched on.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { InspectionEvent } from 'xstate';
import type { Logger } from './logger.js';

/** What XState's `createActor(logic, { inspect })` accepts as a function. */
export type InspectCallback = (inspectionEvent: InspectionEvent) => void;

/** Logs each transition that changes state (one per microstep transition with a target). */
export function transitionLogger(logger: Logger): InspectCallback {
  return (inspectionEvent) => {
    if (inspectionEvent.type !== '@xstate.microstep') return;
    for (const transition of inspectionEvent._transitions) {
      if (transition.target === undefined) continue;
      for (const target of transition.target) {
        logger.info(
          {
            from: transition.source.path.join('.'),
            to: target.path.join('.'),
            event: inspectionEvent.event.type,
          },
          'transition',
        );
      }
    }
  };
}

/** One inspect callback that feeds every given one (absent ones are skipped). */
export function combineInspectors(
  ...inspectors: ReadonlyArray<InspectCallback | null | undefined>
): InspectCallback {
  const present = inspectors.filter((inspector) => inspector !== null && inspector !== undefined);
  return (inspectionEvent) => {
    for (const inspector of present) inspector(inspectionEvent);
  };
}

export const INSPECT_ENV_VARIABLE = 'GOVERNOR_INSPECT';
export const INSPECT_PORT_DEFAULT = 8788;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export interface LiveInspectorOptions {
  /** Switches the live inspector on or off; when absent, `GOVERNOR_INSPECT=1` in `env` does. */
  readonly enabled?: boolean;
  /** Where to read GOVERNOR_INSPECT from (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Port of the local bridge page and WebSocket (default 8788). */
  readonly port?: number;
  /** A loopback address only: 127.0.0.1 (default), ::1 or localhost. */
  readonly host?: string;
  /** Where to say the page's address (default: nowhere; it is also returned as `url`). */
  readonly logger?: Logger;
}

export interface LiveInspector {
  readonly inspect: InspectCallback;
  /** The bridge page to open in a browser (it embeds Stately's hosted inspector). */
  readonly url: string;
  /** Disconnects the inspector and closes the local server. */
  stop(): Promise<void>;
}

/** Whether the live inspector is on: the explicit option wins, else GOVERNOR_INSPECT=1|true. */
export function liveInspectionEnabled(options: LiveInspectorOptions = {}): boolean {
  if (options.enabled !== undefined) return options.enabled;
  const value = (options.env ?? process.env)[INSPECT_ENV_VARIABLE];
  return value === '1' || value === 'true';
}

function checkedEndpoint(options: LiveInspectorOptions): { host: string; port: number } {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? INSPECT_PORT_DEFAULT;
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new TypeError(`Expected a loopback host (127.0.0.1, ::1, localhost), got ${host}`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new TypeError(`Expected a port between 1 and 65535, got ${String(port)}`);
  }
  return { host, port };
}

/**
 * The live inspector, or null when it is off. Off means: @statelyai/inspect is not imported,
 * no socket is opened, and nothing is left to keep the process alive.
 */
export async function createLiveInspector(
  options: LiveInspectorOptions = {},
): Promise<LiveInspector | null> {
  if (!liveInspectionEnabled(options)) return null;
  const { host, port } = checkedEndpoint(options);
  const server = await startLoopbackBridge(host, port);
  const { createWebSocketInspector } = await import('@statelyai/inspect');
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const client = createWebSocketInspector({ url: `ws://${urlHost}:${port}` });
  const url = `http://${urlHost}:${port}`;
  options.logger?.info({ url }, 'live inspector: open this page in a browser');
  return {
    inspect: (inspectionEvent) => client.inspect.next?.(inspectionEvent),
    url,
    async stop() {
      client.stop();
      await server.stop();
    },
  };
}

/**
 * Starts @statelyai/inspect's bridge server (its page and WebSocket relay) bound to `host`.
 * The library listens on every interface and has no host option, so its one synchronous
 * `listen` call is redirected to the loopback address; `autoOpen: false` opens no browser.
 */
async function startLoopbackBridge(host: string, port: number): Promise<{ stop(): Promise<void> }> {
  const [{ createInspectorServer }, http] = await Promise.all([
    import('@statelyai/inspect/server'),
    import('node:http'),
  ]);
  const originalListen = http.Server.prototype.listen;
  let captured: Server | undefined;
  const listenOnLoopback = function (this: Server, ...args: unknown[]) {
    captured = this;
    const callback = args.find((arg): arg is () => void => typeof arg === 'function');
    return originalListen.call(this, { port, host }, callback);
  };
  let handle: { stop(): void };
  http.Server.prototype.listen = listenOnLoopback as typeof originalListen;
  try {
    handle = createInspectorServer({ port, autoOpen: false });
  } finally {
    http.Server.prototype.listen = originalListen;
  }
  const server = captured;
  if (server === undefined) throw new Error('live inspector: the bridge server did not listen');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  // Upgraded (WebSocket) sockets are no longer the HTTP server's to close: track them.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (_request, socket: Duplex) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        server.once('close', () => resolve());
        handle.stop();
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
      }),
  };
}
