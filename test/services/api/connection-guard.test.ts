/**
 * Goal: the connection guard keeps its bounds and closes the right connection. With fake
 * sockets and a fake clock: a full address or server makes room by closing the connection
 * that has waited longest for a request head, never one with a request in flight, and refuses
 * the newcomer only when none waits; each waiting connection's own timer closes it, with a 408,
 * exactly when it has waited the head timeout. A property (fast-check) holds the bounds over
 * random sequences of connects, requests, responses, closes and the passing of time. On a real server, a probe
 * gets through an address already holding CONNECTIONS_PER_ADDRESS_MAX silent sockets.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addressKey,
  CONNECTIONS_PER_ADDRESS_MAX,
  ConnectionGuard,
  type GuardLimits,
  REQUEST_TIMEOUT_RESPONSE,
  type StartTimer,
} from '../../../services/api/connection-guard.js';
import { type ApiHarness, apiIn } from './api-support.js';
import { probe } from './slow-clients.js';

class FakeSocket extends EventEmitter {
  destroyed = false;
  written = '';
  constructor(readonly remoteAddress: string | undefined) {
    super();
  }
  write(chunk: string): boolean {
    this.written += chunk;
    return true;
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}

const LIMITS: GuardLimits = { connectionsMax: 6, perAddressMax: 3, headersTimeoutMs: 1_000 };

/** Fake timers: `advanceTo` fires the timers due by then, in deadline order. */
class FakeTimers {
  nowMs = 0;
  private readonly timers = new Set<{ dueMs: number; callback: () => void }>();
  readonly start: StartTimer = (callback, delayMs) => {
    const timer = { dueMs: this.nowMs + delayMs, callback };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  };
  advanceTo(ms: number): void {
    for (;;) {
      const due = [...this.timers]
        .filter((timer) => timer.dueMs <= ms)
        .sort((a, b) => a.dueMs - b.dueMs)[0];
      if (due === undefined) break;
      this.timers.delete(due);
      this.nowMs = due.dueMs;
      due.callback();
    }
    this.nowMs = ms;
  }
  pending(): number {
    return this.timers.size;
  }
}

function guardWithClock(): { guard: ConnectionGuard; clock: FakeTimers } {
  const clock = new FakeTimers();
  return { guard: new ConnectionGuard(LIMITS, clock.start), clock };
}

function admitted(guard: ConnectionGuard, address: string, count: number): FakeSocket[] {
  return Array.from({ length: count }, () => {
    const socket = new FakeSocket(address);
    expect(guard.admit(socket)).toBe('admitted');
    return socket;
  });
}

describe('ConnectionGuard', () => {
  it('at the per-address cap, closes that address’s longest-waiting connection for a newcomer', () => {
    const { guard, clock } = guardWithClock();
    const sockets = admitted(guard, '10.0.0.1', 3);
    admitted(guard, '10.0.0.2', 1);
    clock.nowMs = 10;
    expect(guard.admit(new FakeSocket('10.0.0.1'))).toBe('admitted-after-eviction');
    expect(sockets.map((socket) => socket.destroyed)).toEqual([true, false, false]);
    expect(sockets[0]?.written).toBe('');
    expect(guard.counts()).toMatchObject({ open: 4, evicted: 1, refused: 0 });
  });

  it('never evicts a connection with a request in flight; refuses the newcomer when none waits', () => {
    const { guard } = guardWithClock();
    const [busy, waiting, other] = admitted(guard, '10.0.0.1', 3) as [
      FakeSocket,
      FakeSocket,
      FakeSocket,
    ];
    guard.requestStarted(busy);
    guard.requestStarted(other);
    const newcomer = new FakeSocket('10.0.0.1');
    expect(guard.admit(newcomer)).toBe('admitted-after-eviction');
    expect([busy.destroyed, waiting.destroyed, other.destroyed]).toEqual([false, true, false]);
    guard.requestStarted(newcomer);
    const refused = new FakeSocket('10.0.0.1');
    expect(guard.admit(refused)).toBe('refused');
    expect(refused.destroyed).toBe(true);
    expect([busy, other, newcomer].map((socket) => socket.destroyed)).toEqual([
      false,
      false,
      false,
    ]);
    expect(guard.counts()).toMatchObject({ open: 3, evicted: 1, refused: 1 });
  });

  it('at the global cap, closes the longest-waiting connection of any address', () => {
    const { guard, clock } = guardWithClock();
    const first = admitted(guard, '10.0.0.1', 2);
    clock.nowMs = 5;
    const second = admitted(guard, '10.0.0.2', 2);
    const third = admitted(guard, '10.0.0.3', 2);
    guard.requestStarted(first[0] as FakeSocket);
    expect(guard.admit(new FakeSocket('10.0.0.4'))).toBe('admitted-after-eviction');
    expect([...first, ...second, ...third].map((socket) => socket.destroyed)).toEqual([
      false,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(guard.counts()).toMatchObject({ open: 6, addresses: 4, evicted: 1 });
  });

  it('a written response puts the connection at the back of the queue, waiting from then', () => {
    const { guard, clock } = guardWithClock();
    const [older, younger] = admitted(guard, '10.0.0.1', 2) as [FakeSocket, FakeSocket];
    clock.advanceTo(100);
    guard.requestStarted(older);
    guard.responseEnded(older);
    admitted(guard, '10.0.0.1', 1);
    expect(guard.admit(new FakeSocket('10.0.0.1'))).toBe('admitted-after-eviction');
    expect([older.destroyed, younger.destroyed]).toEqual([false, true]);
    clock.advanceTo(100 + LIMITS.headersTimeoutMs - 1);
    expect(guard.counts().timedOut).toBe(0);
    expect(older.destroyed).toBe(false);
  });

  it('closes with a 408 each connection exactly when it has waited headersTimeoutMs', () => {
    const { guard, clock } = guardWithClock();
    const [silent, busy] = admitted(guard, '10.0.0.1', 2) as [FakeSocket, FakeSocket];
    guard.requestStarted(busy);
    clock.advanceTo(400);
    const [late] = admitted(guard, '10.0.0.2', 1) as [FakeSocket];
    clock.advanceTo(LIMITS.headersTimeoutMs - 1);
    expect(guard.counts().timedOut).toBe(0);
    clock.advanceTo(LIMITS.headersTimeoutMs);
    expect(guard.counts().timedOut).toBe(1);
    expect(silent.destroyed).toBe(true);
    expect(silent.written).toBe(REQUEST_TIMEOUT_RESPONSE);
    expect([busy.destroyed, late.destroyed]).toEqual([false, false]);
    clock.advanceTo(400 + LIMITS.headersTimeoutMs - 1);
    expect(late.destroyed).toBe(false);
    clock.advanceTo(400 + LIMITS.headersTimeoutMs);
    expect([busy.destroyed, late.destroyed]).toEqual([false, true]);
    expect(guard.counts()).toMatchObject({ open: 1, waiting: 0, timedOut: 2 });
    // The busy connection has no deadline while its request is in flight; one once answered.
    expect(clock.pending()).toBe(0);
    guard.responseEnded(busy);
    expect(clock.pending()).toBe(1);
    busy.destroy();
    expect(clock.pending()).toBe(0);
  });

  it('each connection has its own deadline: a silent one beside a slow head and a reused one', () => {
    const { guard, clock } = guardWithClock();
    const [dripping] = admitted(guard, '10.0.0.1', 1) as [FakeSocket];
    clock.advanceTo(300);
    const [silent] = admitted(guard, '10.0.0.1', 1) as [FakeSocket];
    clock.advanceTo(600);
    const [reused] = admitted(guard, '10.0.0.2', 1) as [FakeSocket];
    guard.requestStarted(reused);
    clock.advanceTo(700);
    guard.responseEnded(reused);
    const closedAt = new Map<FakeSocket, number>();
    for (const socket of [dripping, silent, reused]) {
      socket.once('close', () => closedAt.set(socket, clock.nowMs));
    }
    clock.advanceTo(10 * LIMITS.headersTimeoutMs);
    expect([closedAt.get(dripping), closedAt.get(silent), closedAt.get(reused)]).toEqual([
      LIMITS.headersTimeoutMs,
      300 + LIMITS.headersTimeoutMs,
      700 + LIMITS.headersTimeoutMs,
    ]);
  });

  it('a closed socket is forgotten once; a socket with no address is refused', () => {
    const { guard } = guardWithClock();
    const [socket] = admitted(guard, '10.0.0.1', 1) as [FakeSocket];
    socket.destroy();
    socket.emit('close');
    expect(guard.counts()).toMatchObject({ open: 0, waiting: 0, addresses: 0 });
    guard.requestStarted(socket);
    guard.responseEnded(socket);
    expect(guard.admit(new FakeSocket(undefined))).toBe('refused');
  });

  it('a response without a request is a broken invariant', () => {
    const { guard } = guardWithClock();
    const [socket] = admitted(guard, '10.0.0.1', 1) as [FakeSocket];
    expect(() => guard.responseEnded(socket)).toThrow(/invariant violated/);
  });

  it('invariant: open, per-address and waiting counts stay within bounds and true (property)', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('connect' as const), address: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant('request' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('response' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('close' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 600 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const { guard, clock } = guardWithClock();
        const inFlight = new Map<FakeSocket, number>();
        const closedByClient = new Set<FakeSocket>();
        const live = (): FakeSocket[] => [...inFlight.keys()].filter((s) => !s.destroyed);
        for (const action of steps) {
          if (action.kind === 'connect') {
            const socket = new FakeSocket(`10.0.0.${action.address}`);
            if (guard.admit(socket) !== 'refused') inFlight.set(socket, 0);
          } else if (action.kind === 'tick') {
            clock.advanceTo(clock.nowMs + action.ms);
          } else {
            const sockets = live();
            const socket = sockets[action.pick % Math.max(1, sockets.length)];
            if (socket === undefined) continue;
            const count = inFlight.get(socket) ?? 0;
            if (action.kind === 'request') {
              guard.requestStarted(socket);
              inFlight.set(socket, count + 1);
            } else if (action.kind === 'response' && count > 0) {
              guard.responseEnded(socket);
              inFlight.set(socket, count - 1);
            } else if (action.kind === 'close') {
              closedByClient.add(socket);
              socket.destroy();
            }
          }
          const open = live();
          const counts = guard.counts();
          expect(counts.open).toBe(open.length);
          expect(counts.open).toBeLessThanOrEqual(LIMITS.connectionsMax);
          expect(counts.waiting).toBe(open.filter((s) => inFlight.get(s) === 0).length);
          // One deadline per waiting connection, none for the others.
          expect(clock.pending()).toBe(counts.waiting);
          for (let address = 0; address < 4; address++) {
            const fromAddress = open.filter((s) => s.remoteAddress === `10.0.0.${address}`);
            expect(fromAddress.length).toBeLessThanOrEqual(LIMITS.perAddressMax);
          }
          // The guard closes only connections with no request in flight.
          for (const [socket, count] of inFlight) {
            if (count > 0 && !closedByClient.has(socket)) expect(socket.destroyed).toBe(false);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('addressKey', () => {
  it('groups loopback as one host, keeps IPv4 addresses, and groups IPv6 by /64', () => {
    const cases: Array<[string | undefined, string | null]> = [
      ['127.0.0.1', 'loopback'],
      ['127.8.9.10', 'loopback'],
      ['::1', 'loopback'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['10.1.2.3', '10.1.2.3'],
      ['::ffff:10.1.2.3', '10.1.2.3'],
      ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
      ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
      ['2001:DB8::1', '2001:db8:0:0::/64'],
      ['fe80::1%eth0', 'fe80:0:0:0::/64'],
      ['64:ff9b::10.1.2.3', '64:ff9b:0:0::/64'],
      ['::', '0:0:0:0::/64'],
      ['not an address', null],
      ['', null],
      [undefined, null],
    ];
    for (const [address, key] of cases) expect(addressKey(address), String(address)).toBe(key);
  });
});

let current: ApiHarness | undefined;
const held: Socket[] = [];
afterEach(async () => {
  for (const socket of held.splice(0)) socket.destroy();
  await current?.cleanup();
  current = undefined;
});

describe('on a real server', () => {
  it(`a probe gets through an address already holding ${CONNECTIONS_PER_ADDRESS_MAX} silent sockets; one of them is closed for it`, async () => {
    current = await apiIn('AGGRESSIVE');
    const port = Number(new URL(current.api.url).port);
    const closed: Socket[] = [];
    for (let i = 0; i < CONNECTIONS_PER_ADDRESS_MAX; i++) {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.on('error', () => {});
      socket.once('close', () => closed.push(socket));
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      held.push(socket);
    }
    const result = await probe(`${current.api.url}/readyz`, 30_000);
    expect(result.status).toBe(200);
    while (closed.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closed).toHaveLength(1);
  });
});
