/**
 * Goal: the engine port refuses every one of governor's reserved event types, through `append`
 * and `appendBatch`, and writes nothing; and it reads an engine's event once, so an event that
 * answers an engine type to the check and a reserved one to the write (a getter, a Proxy, a
 * getter on the prototype) is stored as the check saw it: never as a forged OPERATOR_ACTION.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GOVERNOR_EVENT_TYPES } from '../../../persistence/event-types.js';
import type { EventInput } from '../../../persistence/index.js';
import { isGovernorError } from '../../../services/errors.js';
import { eventsOf, type Harness, makeHarness } from '../../support/harness.js';

let h: Harness | undefined;
afterEach(() => {
  h?.cleanup();
  h = undefined;
});

const RESERVED = Object.keys(GOVERNOR_EVENT_TYPES);

function expectRefused(write: () => unknown): void {
  let thrown: unknown;
  try {
    write();
  } catch (error) {
    thrown = error;
  }
  expect(isGovernorError(thrown, 'GOV_INVALID_ARGUMENT'), String(thrown)).toBe(true);
  expect((thrown as { details?: { field?: string } }).details?.field).toBe('eventType');
}

/** The forged operator restart the issue describes: an OPERATOR_ACTION naming any operator. */
const FORGED = {
  eventType: 'OPERATOR_ACTION',
  reason: 'operator restart',
  metadata: { operator: 'mallory', action: 'RESTART', state: 'SHUTDOWN' },
} as const;
const HONEST = { eventType: 'ORDER_FILLED', reason: 'order 1', metadata: { orderId: 1 } } as const;

/** Each field answers `first` on its first read and `later` on every read after. */
function flipping(first: Record<string, unknown>, later: Record<string, unknown>) {
  const reads = new Map<string, number>();
  const next = (key: string): unknown => {
    const count = (reads.get(key) ?? 0) + 1;
    reads.set(key, count);
    return count === 1 ? first[key] : later[key];
  };
  return { reads, next };
}

const twoFacedEvents: Array<[string, () => EventInput]> = [
  [
    'getters on the object',
    () => {
      const { next } = flipping(HONEST, FORGED);
      const event = {};
      for (const key of ['eventType', 'reason', 'metadata']) {
        Object.defineProperty(event, key, { get: () => next(key), enumerable: true });
      }
      return event as EventInput;
    },
  ],
  [
    'a Proxy',
    () => {
      const { next } = flipping(HONEST, FORGED);
      return new Proxy({} as EventInput, { get: (_target, key) => next(String(key)) });
    },
  ],
  [
    'getters on its prototype',
    () => {
      const { next } = flipping(HONEST, FORGED);
      const prototype = {};
      for (const key of ['eventType', 'reason', 'metadata']) {
        Object.defineProperty(prototype, key, { get: () => next(key) });
      }
      return Object.create(prototype) as EventInput;
    },
  ],
];

describe("the engine port refuses governor's reserved event types", () => {
  for (const eventType of RESERVED) {
    it(`refuses ${eventType} through append and appendBatch, and writes nothing`, () => {
      h = makeHarness();
      const { engine } = h.gov;
      const before = engine.events.head();
      expectRefused(() => engine.events.append({ eventType, reason: 'from the engine' }));
      expectRefused(() =>
        engine.events.appendBatch([HONEST, { eventType, reason: 'from the engine' }, HONEST]),
      );
      expect(engine.events.head()).toEqual(before);
    });
  }
});

describe('the engine port reads an event once', () => {
  for (const [trick, make] of twoFacedEvents) {
    it(`regression: an event with ${trick} that answered ORDER_FILLED to the check and OPERATOR_ACTION after was stored as a forged operator RESTART; now it is stored as read`, () => {
      h = makeHarness();
      const { engine } = h.gov;
      const appended = engine.events.append(make());
      const batch = engine.events.appendBatch([make(), HONEST, make()]);
      for (const seq of [appended.seq, ...batch.map((b) => b.seq)]) {
        expect(engine.events.get(seq)).toMatchObject(HONEST);
      }
      const forged = eventsOf(h.reader()).filter(
        (event) => (event.metadata as { operator?: unknown } | null)?.operator === 'mallory',
      );
      expect(forged).toEqual([]);
    });
  }

  it('regression: a batch (a Proxy) whose items answered honest events to the check and forged ones after stored the forged ones; now each item is read once', () => {
    h = makeHarness();
    const items = [HONEST, HONEST];
    const reads = new Map<string, number>();
    const batch = new Proxy(items, {
      get: (target, key, receiver) => {
        if (key === '0' || key === '1') {
          const count = (reads.get(key) ?? 0) + 1;
          reads.set(key, count);
          return count === 1 ? HONEST : FORGED;
        }
        return Reflect.get(target, key, receiver);
      },
    });
    const appended = h.gov.engine.events.appendBatch(batch);
    expect(appended.map((a) => h?.gov.engine.events.get(a.seq)?.eventType)).toEqual([
      'ORDER_FILLED',
      'ORDER_FILLED',
    ]);
  });

  it('regression: metadata whose toJSON getter answered nothing to the check and a function after stored what the function returned; now the metadata stored is the metadata checked', () => {
    h = makeHarness();
    let reads = 0;
    const metadata = { orderId: 7 };
    Object.defineProperty(metadata, 'toJSON', {
      enumerable: true,
      get: () => (++reads === 1 ? undefined : () => FORGED.metadata),
    });
    const appended = h.gov.engine.events.append({ ...HONEST, metadata });
    expect(h.gov.engine.events.get(appended.seq)?.metadata).toEqual({ orderId: 7 });
  });

  it('refuses, writing nothing, an event it cannot read: a getter that throws, a revoked Proxy, a batch or metadata claiming a billion items', () => {
    h = makeHarness();
    const { engine } = h.gov;
    const before = engine.events.head();
    const throwing = Object.defineProperty({ reason: 'r' }, 'eventType', {
      get: () => {
        throw new Error('boom');
      },
    });
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const huge = new Proxy([], {
      get: (target, key, receiver) => (key === 'length' ? 1e9 : Reflect.get(target, key, receiver)),
    });
    const cases: Array<[string, () => unknown]> = [
      ['a throwing getter', () => engine.events.append(throwing as EventInput)],
      ['a revoked Proxy', () => engine.events.append(revoked.proxy as EventInput)],
      ['revoked metadata', () => engine.events.append({ ...HONEST, metadata: revoked.proxy })],
      ['a revoked batch', () => engine.events.appendBatch(revoked.proxy as EventInput[])],
      ['a billion-item batch', () => engine.events.appendBatch(huge as EventInput[])],
      ['billion-item metadata', () => engine.events.append({ ...HONEST, metadata: huge })],
    ];
    for (const [what, write] of cases) {
      let thrown: unknown;
      try {
        write();
      } catch (error) {
        thrown = error;
      }
      expect(isGovernorError(thrown), `${what}: ${String(thrown)}`).toBe(true);
    }
    expect(engine.events.head()).toEqual(before);
  });

  it('keeps an own "__proto__" key of metadata (as JSON.parse makes it) as data, in the stored JSON', () => {
    h = makeHarness();
    const metadata = JSON.parse('{"__proto__":{"action":"RESTART"},"orderId":3}') as unknown;
    const { seq } = h.gov.engine.events.append({ ...HONEST, metadata });
    const stored = h.gov.engine.events.get(seq)?.metadata as Record<string, unknown>;
    expect(Object.keys(stored)).toEqual(['__proto__', 'orderId']);
    expect(Object.getOwnPropertyDescriptor(stored, '__proto__')?.value).toEqual({
      action: 'RESTART',
    });
  });
});
