/**
 * The health API's connection bounds: at most CONNECTIONS_MAX sockets, at most
 * CONNECTIONS_PER_ADDRESS_MAX from one address (one host: all of loopback, an IPv4 address or
 * an IPv6 /64), and a complete request head within HEADERS_TIMEOUT_MS of the server starting
 * to wait for one, on a timer of each connection's own. A full address or server makes room
 * by closing its connection that has waited longest for a head; only when none is waiting is
 * the newcomer closed.
 */
import { isIP } from 'node:net';
import { assert } from '../errors.js';

/** The most sockets open at once. */
export const CONNECTIONS_MAX = 256;
/** The most sockets open at once from one address key (see `addressKey`). */
export const CONNECTIONS_PER_ADDRESS_MAX = 64;
/**
 * A connection must deliver a complete request head within this long of connecting, or of
 * its previous response being written; it is then answered 408 and closed.
 */
export const HEADERS_TIMEOUT_MS = 10_000;
/** A whole request (head and body) must arrive within this long of its first byte. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** A connection idle after a response closes after this long (node:http's keep-alive timer). */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** How often node:http checks REQUEST_TIMEOUT_MS: how late it may fire. */
export const CONNECTIONS_CHECK_INTERVAL_MS = 250;
/** node:http closes a keep-alive connection this long after its advertised timeout. */
export const KEEP_ALIVE_CLOSE_DELAY_MS = 1_000;

/** The time bounds of the API's connections (the constants above, or smaller ones in tests). */
export interface ConnectionTimeouts {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly checkIntervalMs: number;
}

export const DEFAULT_CONNECTION_TIMEOUTS: ConnectionTimeouts = {
  headersTimeoutMs: HEADERS_TIMEOUT_MS,
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
  checkIntervalMs: CONNECTIONS_CHECK_INTERVAL_MS,
};

/** Asserts how the timeouts relate; returns them. */
export function checkConnectionTimeouts(timeouts: ConnectionTimeouts): ConnectionTimeouts {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, checkIntervalMs } = timeouts;
  assert(checkIntervalMs > 0 && keepAliveTimeoutMs > 0, 'timeouts are positive');
  assert(
    keepAliveTimeoutMs + KEEP_ALIVE_CLOSE_DELAY_MS < headersTimeoutMs,
    'an idle connection is closed by its keep-alive timeout, before its head timeout',
  );
  assert(headersTimeoutMs <= requestTimeoutMs, 'the head is part of the request');
  assert(checkIntervalMs * 20 <= requestTimeoutMs, 'the request check is at most 5 % late');
  return timeouts;
}

assert(CONNECTIONS_PER_ADDRESS_MAX < CONNECTIONS_MAX, 'one address cannot take every slot');
checkConnectionTimeouts(DEFAULT_CONNECTION_TIMEOUTS);

/** What the guard needs of a socket (a net.Socket; tests pass fakes). */
export interface GuardedSocket {
  readonly remoteAddress?: string | undefined;
  write(chunk: string): boolean;
  destroy(): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Starts a one-shot timer and returns what cancels it. The guard gives each waiting connection
 * its own, so one connection's deadline never waits on another's (tests pass fake timers).
 */
export type StartTimer = (callback: () => void, delayMs: number) => () => void;

/** node's timers, unref'd: a waiting connection's deadline does not keep the process alive. */
export const systemTimer: StartTimer = (callback, delayMs) => {
  const timer = setTimeout(callback, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
};

export interface GuardLimits {
  readonly connectionsMax: number;
  readonly perAddressMax: number;
  readonly headersTimeoutMs: number;
}

export const DEFAULT_GUARD_LIMITS: GuardLimits = {
  connectionsMax: CONNECTIONS_MAX,
  perAddressMax: CONNECTIONS_PER_ADDRESS_MAX,
  headersTimeoutMs: HEADERS_TIMEOUT_MS,
};

/** What `admit` did with a new socket. */
export type Admission = 'admitted' | 'admitted-after-eviction' | 'refused';

export interface GuardCounts {
  readonly open: number;
  readonly waiting: number;
  readonly addresses: number;
  readonly evicted: number;
  readonly refused: number;
  readonly timedOut: number;
}

/** What node:http writes when its own headersTimeout expires; the guard writes the same. */
export const REQUEST_TIMEOUT_RESPONSE = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';

interface Connection {
  readonly socket: GuardedSocket;
  readonly address: AddressConnections;
  /** Requests whose head arrived and whose response is not yet written. */
  inFlight: number;
  /** Cancels the head deadline (set while inFlight is 0, the connection waiting for a head). */
  cancelDeadline: (() => void) | null;
}

interface AddressConnections {
  readonly key: string;
  open: number;
  /** This address's connections with no request in flight, the longest waiting first. */
  readonly waiting: Map<GuardedSocket, Connection>;
}

export class ConnectionGuard {
  private readonly connections = new Map<GuardedSocket, Connection>();
  /** Every connection with no request in flight, the longest waiting first. */
  private readonly waiting = new Map<GuardedSocket, Connection>();
  private readonly addresses = new Map<string, AddressConnections>();
  private evicted = 0;
  private refused = 0;
  private timedOut = 0;

  constructor(
    private readonly limits: GuardLimits = DEFAULT_GUARD_LIMITS,
    private readonly startTimer: StartTimer = systemTimer,
  ) {
    assert(limits.perAddressMax >= 1, 'perAddressMax is at least 1');
    assert(limits.perAddressMax <= limits.connectionsMax, 'perAddressMax <= connectionsMax');
    assert(limits.headersTimeoutMs > 0, 'headersTimeoutMs is positive');
  }

  /** Takes a new socket in, making room if its address or the server is full; or closes it. */
  admit(socket: GuardedSocket): Admission {
    const key = addressKey(socket.remoteAddress);
    if (key === null) return this.refuse(socket);
    let evictions = 0;
    const address = this.addresses.get(key);
    if (address !== undefined && address.open >= this.limits.perAddressMax) {
      if (!this.evictLongestWaiting(address.waiting)) return this.refuse(socket);
      evictions++;
    }
    if (this.connections.size >= this.limits.connectionsMax) {
      if (!this.evictLongestWaiting(this.waiting)) return this.refuse(socket);
      evictions++;
    }
    this.register(socket, address ?? this.newAddress(key));
    return evictions === 0 ? 'admitted' : 'admitted-after-eviction';
  }

  /** A request head arrived on `socket`: it is no longer waiting. */
  requestStarted(socket: GuardedSocket): void {
    const connection = this.connections.get(socket);
    if (connection === undefined) return;
    if (connection.inFlight++ === 0) this.stopWaiting(connection);
  }

  /** The response to one of `socket`'s requests was written: once none is left, it waits. */
  responseEnded(socket: GuardedSocket): void {
    const connection = this.connections.get(socket);
    if (connection === undefined) return;
    assert(connection.inFlight > 0, 'a response ends only a request that started');
    if (--connection.inFlight === 0) this.startWaiting(connection);
  }

  /** The head deadline of `connection` passed: it is answered 408 and closed. */
  private timeOut(connection: Connection): void {
    connection.cancelDeadline = null;
    // A head or a close cancels the deadline: it runs out only on an open, waiting connection.
    assert(this.connections.get(connection.socket) === connection, 'a deadline of an open one');
    assert(connection.inFlight === 0, 'a deadline of a waiting connection');
    this.forget(connection.socket);
    connection.socket.write(REQUEST_TIMEOUT_RESPONSE);
    connection.socket.destroy();
    this.timedOut++;
  }

  counts(): GuardCounts {
    return {
      open: this.connections.size,
      waiting: this.waiting.size,
      addresses: this.addresses.size,
      evicted: this.evicted,
      refused: this.refused,
      timedOut: this.timedOut,
    };
  }

  private newAddress(key: string): AddressConnections {
    const address: AddressConnections = { key, open: 0, waiting: new Map() };
    this.addresses.set(key, address);
    return address;
  }

  private register(socket: GuardedSocket, address: AddressConnections): void {
    const connection: Connection = { socket, address, inFlight: 0, cancelDeadline: null };
    this.connections.set(socket, connection);
    address.open++;
    this.startWaiting(connection);
    socket.once('close', () => this.forget(socket));
    assert(this.connections.size <= this.limits.connectionsMax, 'at most connectionsMax open');
    assert(address.open <= this.limits.perAddressMax, 'at most perAddressMax per address');
  }

  /** The connection waits for a head from now: at the back of the queues, its deadline set. */
  private startWaiting(connection: Connection): void {
    assert(connection.cancelDeadline === null, 'one head deadline per connection');
    this.waiting.set(connection.socket, connection);
    connection.address.waiting.set(connection.socket, connection);
    connection.cancelDeadline = this.startTimer(
      () => this.timeOut(connection),
      this.limits.headersTimeoutMs,
    );
  }

  private stopWaiting(connection: Connection): void {
    connection.cancelDeadline?.();
    connection.cancelDeadline = null;
    this.waiting.delete(connection.socket);
    connection.address.waiting.delete(connection.socket);
  }

  /** Closes the connection that has waited longest in `waiting`; false when there is none. */
  private evictLongestWaiting(waiting: Map<GuardedSocket, Connection>): boolean {
    const first = waiting.values().next();
    if (first.done === true) return false;
    this.forget(first.value.socket);
    first.value.socket.destroy();
    this.evicted++;
    return true;
  }

  private refuse(socket: GuardedSocket): 'refused' {
    socket.destroy();
    this.refused++;
    return 'refused';
  }

  private forget(socket: GuardedSocket): void {
    const connection = this.connections.get(socket);
    if (connection === undefined) return;
    this.connections.delete(socket);
    this.stopWaiting(connection);
    const address = connection.address;
    if (--address.open === 0) this.addresses.delete(address.key);
  }
}

const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * The unit the per-address cap counts: 'loopback' for 127.0.0.0/8 and ::1 (one host, however
 * many loopback addresses a local process binds), an IPv4 address as itself (IPv4-mapped IPv6
 * too), and an IPv6 address by its /64 (a host can hold a whole /64). Null when unknown.
 */
export function addressKey(remoteAddress: string | undefined): string | null {
  if (remoteAddress === undefined || remoteAddress.length === 0) return null;
  const withoutZone = remoteAddress.split('%')[0] ?? remoteAddress;
  const address = IPV4_MAPPED.exec(withoutZone)?.[1] ?? withoutZone;
  const family = isIP(address);
  if (family === 4) return address.startsWith('127.') ? 'loopback' : address;
  if (family !== 6) return null;
  const groups = ipv6Groups(address);
  if (groups.every((group, index) => group === (index === 7 ? 1 : 0))) return 'loopback';
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (an embedded IPv4 tail counts as two). */
function ipv6Groups(address: string): number[] {
  const parse = (part: string): number[] => {
    if (part.length === 0) return [];
    return part.split(':').flatMap((group) => {
      if (!group.includes('.')) return [Number.parseInt(group, 16)];
      const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
      return [a * 256 + b, c * 256 + d];
    });
  };
  const [head = '', tail] = address.split('::');
  const headGroups = parse(head);
  if (tail === undefined) return headGroups;
  const tailGroups = parse(tail);
  const zeros = new Array<number>(8 - headGroups.length - tailGroups.length).fill(0);
  return [...headGroups, ...zeros, ...tailGroups];
}
