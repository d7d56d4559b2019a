/**
 * The local control channel: a Unix socket in a private directory beside the database
 * (directory 0700, socket 0600, both owned by the daemon's user), carrying one newline-delimited
 * JSON request and one response per connection, with a bounded size and timeouts. Never HTTP.
 * Idle connections cannot block it: a connection must deliver its request within a deadline
 * from its connect, and when all slots are taken a newcomer evicts the longest-waiting idle one.
 */

import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { clip, displayText } from '../display-text.js';
import { describeError } from '../errors.js';
import { canonicalDatabasePath } from '../governor/database-path.js';
import { OPERATOR_COMMANDS } from '../governor/operator-vocabulary.js';
import { CliError, EXIT } from './exit-codes.js';

/** The largest request or response line, in bytes. */
export const CONTROL_MESSAGE_BYTES_MAX = 65_536;
/**
 * A connection that has not sent a complete request this long after it connected is closed,
 * however it trickles its bytes.
 */
export const CONTROL_IDLE_TIMEOUT_MS = 5_000;
/**
 * At most this many control connections at once. A newcomer beyond it evicts the idle one (no
 * complete request yet) that connected first; only when every one is busy is the newcomer closed.
 */
export const CONTROL_CONNECTIONS_MAX = 16;
/** How much of an unknown command a refusal repeats. */
const COMMAND_ECHO_CHARS_MAX = 32;
/** Linux allows 107 bytes in a socket path, macOS 103: stay under both. */
export const SOCKET_PATH_BYTES_MAX = 103;

/**
 * What the socket answers: `ping` (is a daemon here) and `status` (its live state). Operator
 * commands never travel over it: the command line records them in the database, where the owner,
 * whoever it is, picks them up (services/governor/ownership/request.ts).
 */
export const CONTROL_COMMANDS = ['ping', 'status'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export interface ControlRequest {
  readonly command: ControlCommand;
}

export type ControlResponse =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly code: string; readonly message: string };

export type ControlHandler = (request: ControlRequest) => Promise<unknown>;

/**
 * The default socket: `<dir>/.<db file name>.control/governor.sock`, beside the database's real
 * file (symlinks resolved), so a command finds the daemon whatever name either was given.
 */
export function defaultSocketPath(dbPath: string): string {
  const absolute = canonicalDatabasePath(dbPath);
  return join(dirname(absolute), `.${basename(absolute)}.control`, 'governor.sock');
}

/**
 * Refuses a socket directory that someone else could write into or that is not ours: a
 * symlink, not a directory, another owner, or any group/other permission bit.
 */
export function checkControlDirectory(directory: string): void {
  const stats = lstatSync(directory);
  const uid = typeof process.getuid === 'function' ? process.getuid() : stats.uid;
  if (!stats.isDirectory() || stats.isSymbolicLink()) {
    throw new CliError(EXIT.REFUSED, `control directory ${directory} is not a plain directory`);
  }
  if (stats.uid !== uid) {
    throw new CliError(
      EXIT.REFUSED,
      `control directory ${directory} belongs to uid ${stats.uid}, not to this user (${uid})`,
    );
  }
  if ((stats.mode & 0o077) !== 0) {
    throw new CliError(
      EXIT.REFUSED,
      `control directory ${directory} has mode ${(stats.mode & 0o777).toString(8)}; it must be 700 (chmod 700 it)`,
    );
  }
}

function checkSocketPathLength(socketPath: string): void {
  if (Buffer.byteLength(socketPath) > SOCKET_PATH_BYTES_MAX) {
    throw new CliError(
      EXIT.USAGE,
      `control socket path ${socketPath} is longer than ${SOCKET_PATH_BYTES_MAX} bytes; choose a shorter one with --socket or GOVERNOR_CONTROL_SOCKET`,
    );
  }
}

function isNotRunningError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTSOCK';
}

/**
 * Sends one request and waits for its response (at most `timeoutMs`). Throws CliError
 * NOT_RUNNING when no daemon listens, FAILURE on a timeout or a malformed response.
 */
export function sendControlRequest(
  socketPath: string,
  request: ControlRequest,
  options: { timeoutMs?: number } = {},
): Promise<ControlResponse> {
  checkSocketPathLength(socketPath);
  try {
    checkControlDirectory(dirname(socketPath));
  } catch (error) {
    if (isNotRunningError(error)) return Promise.reject(notRunning(socketPath));
    return Promise.reject(error);
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolvePromise, reject) => {
    const socket = createConnection(socketPath);
    let buffer = '';
    let settled = false;
    const finish = (error: Error | null, response?: ControlResponse): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (error !== null) reject(error);
      else if (response !== undefined) resolvePromise(response);
    };
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () =>
      finish(
        new ControlSocketError(
          'timeout',
          `no answer from the daemon within ${timeoutMs} ms (${socketPath})`,
        ),
      ),
    );
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > CONTROL_MESSAGE_BYTES_MAX) {
        finish(new CliError(EXIT.FAILURE, 'the daemon sent a response larger than the limit'));
        return;
      }
      const end = buffer.indexOf('\n');
      if (end === -1) return;
      try {
        finish(null, JSON.parse(buffer.slice(0, end)) as ControlResponse);
      } catch {
        finish(new CliError(EXIT.FAILURE, 'the daemon sent a malformed response'));
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish(
        isNotRunningError(error)
          ? notRunning(socketPath)
          : new ControlSocketError(
              'failed',
              `the control socket failed: ${error.code ?? error.message} (${socketPath})`,
            ),
      ),
    );
    socket.on('close', () =>
      finish(
        new ControlSocketError('closed', 'the daemon closed the connection without answering'),
      ),
    );
  });
}

/** Why a request over the control socket got no answer: a retry may get one (not a timeout). */
export class ControlSocketError extends CliError {
  constructor(
    readonly kind: 'timeout' | 'closed' | 'failed',
    message: string,
  ) {
    super(EXIT.FAILURE, message);
    this.name = 'ControlSocketError';
  }

  /** A connection closed or reset without an answer (the daemon was full, or evicted it). */
  get retryable(): boolean {
    return this.kind !== 'timeout';
  }
}

function notRunning(socketPath: string): CliError {
  return new CliError(
    EXIT.NOT_RUNNING,
    `no governor daemon is running (nothing answers on ${socketPath})`,
  );
}

/** True when a daemon answers `ping` on the socket. */
export async function isDaemonRunning(socketPath: string): Promise<boolean> {
  try {
    const response = await sendControlRequest(
      socketPath,
      { command: 'ping' },
      { timeoutMs: 2_000 },
    );
    return response.ok;
  } catch (error) {
    if (error instanceof CliError && error.exitCode === EXIT.NOT_RUNNING) return false;
    throw error;
  }
}

function parseRequest(line: string): ControlRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'request is not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'request is not an object';
  const command = (value as Record<string, unknown>).command;
  const known = CONTROL_COMMANDS.find((each) => each === command);
  if (known === undefined) return unknownCommand(command);
  return { command: known };
}

/** The refusal of a command the socket does not answer, naming the ones it does. */
function unknownCommand(command: unknown): string {
  const named =
    typeof command === 'string' ? ` "${displayText(clip(command, COMMAND_ECHO_CHARS_MAX))}"` : '';
  const operator = OPERATOR_COMMANDS.map((entry) => entry.cli.name).join('|');
  return `unknown command${named}: the control socket answers ${CONTROL_COMMANDS.join(' and ')} only; operator commands (governor ${operator}) are recorded in the database and carried out by its owner`;
}

/** The connections a server holds; a newcomer beyond the limit evicts the oldest idle one. */
class ConnectionSlots {
  /** In connect order: the first idle entry is the longest-waiting one. */
  private readonly connections = new Map<Socket, { idle: boolean }>();

  /** Admits `socket`, evicting the longest-waiting idle connection when full; false if all are busy. */
  admit(socket: Socket): boolean {
    if (this.connections.size >= CONTROL_CONNECTIONS_MAX) {
      const idle = [...this.connections].find(([, state]) => state.idle);
      if (idle === undefined) return false;
      this.release(idle[0]);
      idle[0].destroy();
    }
    this.connections.set(socket, { idle: true });
    socket.once('close', () => this.release(socket));
    return true;
  }

  /** The request arrived: the connection is busy until it closes, and is never evicted. */
  busy(socket: Socket): void {
    const state = this.connections.get(socket);
    if (state !== undefined) state.idle = false;
  }

  release(socket: Socket): void {
    this.connections.delete(socket);
  }

  get size(): number {
    return this.connections.size;
  }

  closeAll(): void {
    for (const socket of this.connections.keys()) socket.destroy();
    this.connections.clear();
  }
}

function serveConnection(socket: Socket, handler: ControlHandler, slots: ConnectionSlots): void {
  let buffer = '';
  let handled = false;
  const reply = (response: ControlResponse): void => {
    const text = `${JSON.stringify(response, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`;
    socket.end(
      text.length > CONTROL_MESSAGE_BYTES_MAX
        ? `${JSON.stringify({ ok: false, code: 'TOO_LARGE', message: 'response too large' })}\n`
        : text,
    );
  };
  socket.setEncoding('utf8');
  // A deadline from the connect, not an inactivity timer: trickled bytes do not extend it.
  const deadline = setTimeout(() => socket.destroy(), CONTROL_IDLE_TIMEOUT_MS);
  deadline.unref();
  socket.once('close', () => clearTimeout(deadline));
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    if (handled) return;
    buffer += chunk;
    if (buffer.length > CONTROL_MESSAGE_BYTES_MAX) {
      handled = true;
      clearTimeout(deadline);
      slots.busy(socket);
      reply({
        ok: false,
        code: 'TOO_LARGE',
        message: `request larger than ${CONTROL_MESSAGE_BYTES_MAX} bytes`,
      });
      return;
    }
    const end = buffer.indexOf('\n');
    if (end === -1) return;
    handled = true;
    clearTimeout(deadline);
    slots.busy(socket);
    const request = parseRequest(buffer.slice(0, end));
    if (typeof request === 'string') {
      reply({ ok: false, code: 'BAD_REQUEST', message: request });
      return;
    }
    handler(request).then(
      (result) => reply({ ok: true, result: result ?? null }),
      (error: unknown) => {
        const code = (error as { code?: unknown }).code;
        reply({
          ok: false,
          code: typeof code === 'string' ? code : 'FAILED',
          message: describeError(error),
        });
      },
    );
  });
}

export interface ControlServer {
  readonly socketPath: string;
  /** How many connections are open now (at most CONTROL_CONNECTIONS_MAX). */
  connections(): number;
  close(): Promise<void>;
}

/**
 * Listens on `socketPath` (creating its private directory). Refuses (REFUSED) when another
 * daemon already answers there; removes a stale socket left by a killed process.
 */
export async function startControlServer(
  socketPath: string,
  handler: ControlHandler,
): Promise<ControlServer> {
  checkSocketPathLength(socketPath);
  const directory = dirname(socketPath);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  checkControlDirectory(directory);
  if (await isDaemonRunning(socketPath)) {
    throw new CliError(
      EXIT.REFUSED,
      `another governor daemon is running on this database (${socketPath})`,
    );
  }
  try {
    unlinkSync(socketPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const slots = new ConnectionSlots();
  // Not server.maxConnections: it drops newcomers, so idle connections could lock everyone out.
  const server: Server = createServer((socket) => {
    if (!slots.admit(socket)) {
      socket.destroy();
      return;
    }
    serveConnection(socket, handler, slots);
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  chmodSync(socketPath, 0o600);
  return {
    socketPath,
    connections: () => slots.size,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        slots.closeAll();
        try {
          unlinkSync(socketPath);
        } catch {
          // already gone
        }
      }),
  };
}
