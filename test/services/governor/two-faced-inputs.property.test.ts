/**
 * Goal (property): every public entry point reads a caller's object once. For any object that
 * answers one thing on the first read of a field and another after (getters on the object,
 * getters on its prototype, a Proxy), with metadata that plays the same tricks (a `toJSON`
 * getter, valueOf/toString, symbol keys), each field is read at most once, and what governor
 * stores is what that first read answered: a reserved event type, a forged operator, another
 * currency, threshold, mode or adapter name given on a later read never lands. When the first
 * read answers a reserved type, the write is refused and nothing is written.
 * Entry points: engine.events.append and appendBatch, engine.snapshots.write,
 * engine.capital.createPool, the operator actions (operatorShutdown, operatorAdjustCapital), the operator-request
 * record (the database channel), runStartupChecks' adapters, and the GovernanceSystem options
 * with their thresholds.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { GOVERNOR_EVENT_TYPES } from '../../../persistence/event-types.js';
import { Store } from '../../../persistence/index.js';
import { SimulatedClock } from '../../../services/clock.js';
import { isGovernorError } from '../../../services/errors.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { silentLogger } from '../../../services/logger.js';
import { makeHarness } from '../../support/harness.js';

type Trick = 'own getters' | 'prototype getters' | 'a Proxy';
const TRICKS: readonly Trick[] = ['own getters', 'prototype getters', 'a Proxy'];
const trick = fc.constantFrom(...TRICKS);

interface TwoFaced {
  readonly value: object;
  /** How often each field was read. */
  readonly reads: Map<string, number>;
}

/**
 * An object whose fields answer `first[key]` on their first read and `later[key]` after, built
 * with `how`. Non-enumerable valueOf/toString and (unless `symbols` is false: thresholds refuse
 * any key they do not know) an enumerable symbol key answer forged values throughout.
 */
function twoFaced(
  first: Record<string, unknown>,
  later: Record<string, unknown>,
  how: Trick,
  symbols = true,
): TwoFaced {
  const reads = new Map<string, number>();
  const keys = [...new Set([...Object.keys(first), ...Object.keys(later)])];
  const next = (key: string): unknown => {
    const count = (reads.get(key) ?? 0) + 1;
    reads.set(key, count);
    return count === 1 ? first[key] : later[key];
  };
  const decorate = (target: object): object => {
    Object.defineProperty(target, 'valueOf', { value: () => 'OPERATOR_ACTION' });
    Object.defineProperty(target, 'toString', { value: () => 'OPERATOR_ACTION' });
    if (!symbols) return target;
    Object.defineProperty(target, Symbol('forged'), { value: 'OPERATOR_ACTION', enumerable: true });
    return target;
  };
  if (how === 'a Proxy') {
    const target = decorate({});
    const value = new Proxy(target, {
      get: (object, key, receiver) =>
        typeof key === 'string' && keys.includes(key)
          ? next(key)
          : Reflect.get(object, key, receiver),
      has: (object, key) => (typeof key === 'string' && keys.includes(key)) || key in object,
      ownKeys: (object) => [...keys, ...Reflect.ownKeys(object)],
      getOwnPropertyDescriptor: (object, key) =>
        typeof key === 'string' && keys.includes(key)
          ? { configurable: true, enumerable: true, writable: true, value: undefined }
          : Reflect.getOwnPropertyDescriptor(object, key),
    });
    return { value, reads };
  }
  const holder = how === 'own getters' ? decorate({}) : {};
  for (const key of keys) {
    Object.defineProperty(holder, key, { get: () => next(key), enumerable: true });
  }
  return { value: how === 'own getters' ? holder : decorate(Object.create(holder)), reads };
}

function expectReadOnce(...faces: TwoFaced[]): void {
  for (const face of faces) {
    for (const [key, count] of face.reads) expect(count, `${key} read ${count} times`).toBe(1);
  }
}

const RESERVED = Object.keys(GOVERNOR_EVENT_TYPES);
const FORGED_METADATA = { operator: 'mallory', action: 'RESTART', state: 'SHUTDOWN' };
const text = fc.string({ minLength: 1, maxLength: 16 }).filter((s) => s.trim() !== '');
const key = fc
  .string({ minLength: 1, maxLength: 6 })
  .filter((k) => !['__proto__', 'toJSON', 'valueOf', 'toString'].includes(k));
const jsonValue = fc
  .jsonValue({ maxDepth: 2 })
  .map((value) => JSON.parse(JSON.stringify(value)) as unknown);
const plainMetadata = fc.dictionary(key, jsonValue, { maxKeys: 4 });
/** What a later read may answer: reserved types, forged metadata, values no check would pass. */
const forged = fc.oneof(
  fc.constantFrom(...RESERVED),
  fc.constant(FORGED_METADATA),
  fc.constant(() => FORGED_METADATA),
  fc.constant(10n),
  fc.constant(undefined),
  text,
);
const engineType = fc.constantFrom('ORDER_FILLED', 'ORDER_PLACED', 'FEED_GAP');

/** Metadata that is two-faced too: its fields flip, and an enumerable toJSON appears later. */
function twoFacedMetadata(first: Record<string, unknown>, how: Trick, laterValue: unknown) {
  const later: Record<string, unknown> = { toJSON: () => FORGED_METADATA };
  for (const name of Object.keys(first)) later[name] = laterValue;
  return twoFaced(first, later, how);
}

const eventCase = fc.record({
  how: trick,
  metadataHow: fc.constantFrom<Trick>('own getters', 'a Proxy'),
  eventType: engineType,
  reason: text,
  metadata: plainMetadata,
  laterType: fc.constantFrom(...RESERVED),
  laterValue: forged,
  reservedFirst: fc.boolean(),
});
type EventCase = typeof eventCase extends fc.Arbitrary<infer T> ? T : never;

function twoFacedEvent(c: EventCase) {
  const metadata = twoFacedMetadata(c.metadata, c.metadataHow, c.laterValue);
  const honest = { eventType: c.eventType, reason: c.reason, metadata: metadata.value };
  const forgedEvent = { eventType: c.laterType, reason: 'forged', metadata: FORGED_METADATA };
  const event = c.reservedFirst
    ? twoFaced({ ...honest, eventType: c.laterType }, { ...honest, eventType: c.eventType }, c.how)
    : twoFaced(honest, forgedEvent, c.how);
  return { event, metadata };
}

const harness = makeHarness();
afterAll(() => harness.cleanup());
const { engine } = harness.gov;

function refusedWithNothingWritten(write: () => unknown): void {
  const head = engine.events.head();
  let thrown: unknown;
  try {
    write();
  } catch (error) {
    thrown = error;
  }
  expect(isGovernorError(thrown), String(thrown)).toBe(true);
  expect(engine.events.head()).toEqual(head);
}

describe('every entry point reads a two-faced object once and stores what it read', () => {
  it('engine.events.append', () => {
    fc.assert(
      fc.property(eventCase, (c) => {
        const { event, metadata } = twoFacedEvent(c);
        if (c.reservedFirst) {
          refusedWithNothingWritten(() => engine.events.append(event.value as never));
          return;
        }
        const { seq } = engine.events.append(event.value as never);
        expect(engine.events.get(seq)).toMatchObject({
          eventType: c.eventType,
          reason: c.reason,
          metadata: c.metadata,
        });
        expectReadOnce(event, metadata);
      }),
      { numRuns: 150 },
    );
  });

  it('engine.events.appendBatch', () => {
    fc.assert(
      fc.property(fc.array(eventCase, { minLength: 1, maxLength: 4 }), (cases) => {
        const made = cases.map(twoFacedEvent);
        const batch = made.map((m) => m.event.value);
        if (cases.some((c) => c.reservedFirst)) {
          refusedWithNothingWritten(() => engine.events.appendBatch(batch as never));
          return;
        }
        const appended = engine.events.appendBatch(batch as never);
        appended.forEach(({ seq }, index) => {
          const c = cases[index];
          expect(engine.events.get(seq)).toMatchObject({
            eventType: c?.eventType,
            reason: c?.reason,
            metadata: c?.metadata,
          });
        });
        expectReadOnce(...made.flatMap((m) => [m.event, m.metadata]));
      }),
      { numRuns: 60 },
    );
  });

  it('engine.snapshots.write', () => {
    let day = 0;
    fc.assert(
      fc.property(trick, plainMetadata, forged, (how, data, laterValue) => {
        day += 1;
        const date = new Date(Date.UTC(2030, 0, day)).toISOString().slice(0, 10);
        const dataFace = twoFacedMetadata(data, 'own getters', laterValue);
        const snapshot = twoFaced(
          { date, data: dataFace.value },
          { date: '2999-12-31', data: FORGED_METADATA },
          how,
        );
        engine.snapshots.write(snapshot.value as never);
        expect(engine.snapshots.get(date)?.data).toEqual(data);
        expect(engine.snapshots.get('2999-12-31')).toBeNull();
        expectReadOnce(snapshot, dataFace);
      }),
      { numRuns: 60 },
    );
  });

  it('engine.capital.createPool', () => {
    let pool = 0;
    fc.assert(
      fc.property(trick, fc.constantFrom('USD', 'EUR', 'USDT'), forged, (how, currency, later) => {
        pool += 1;
        const options = twoFaced({ currency }, { currency: later }, how);
        engine.capital.createPool(`pool-${pool}`, options.value as never);
        expect(engine.capital.pool(`pool-${pool}`)?.currency).toBe(currency);
        expectReadOnce(options);
      }),
      { numRuns: 60 },
    );
  });

  it('the operator actions (operatorShutdown)', () => {
    fc.assert(
      fc.property(trick, text, text, (how, operator, reason) => {
        const request = twoFaced(
          { operator, reason },
          { operator: 'mallory', reason: 'forged' },
          how,
        );
        harness.gov.operatorShutdown(request.value as never);
        const head = engine.events.head();
        const audited = engine.events.get(head?.seq ?? 1);
        expect(audited).toMatchObject({
          eventType: 'OPERATOR_ACTION',
          reason: reason.trim(),
          metadata: { operator: operator.trim() },
        });
        expectReadOnce(request);
      }),
      { numRuns: 60 },
    );
  });

  it('the operator capital correction', () => {
    engine.capital.createPool('corrected', { currency: 'USD' });
    engine.capital.createPool('elsewhere', { currency: 'USD' });
    fc.assert(
      fc.property(trick, fc.bigInt({ min: 1n, max: 1_000n }), (how, amountMinor) => {
        const correction = twoFaced(
          { poolId: 'corrected', accountId: undefined, amountMinor },
          { poolId: 'elsewhere', accountId: 'forged', amountMinor: 10n ** 12n },
          how,
        );
        harness.gov.operatorAdjustCapital(
          { operator: 'alice', reason: 'property' },
          correction.value as never,
        );
        const head = engine.events.head();
        expect(engine.events.get(head?.seq ?? 1)?.metadata).toMatchObject({
          poolId: 'corrected',
          accountId: null,
          deltaMinor: amountMinor.toString(),
        });
        expect(engine.capital.pool('elsewhere')?.totalMinor).toBe(0n);
        expectReadOnce(correction);
      }),
      { numRuns: 40 },
    );
  });

  it('the operator-request record (the database channel)', () => {
    const store = Store.open(`${harness.dir}/requests.db`);
    try {
      fc.assert(
        fc.property(trick, text, text, plainMetadata, (how, operator, reason, options) => {
          const optionsFace = twoFacedMetadata(options, 'a Proxy', FORGED_METADATA);
          const request = twoFaced(
            {
              command: 'shutdown',
              operator,
              reason,
              requestedBy: 'test',
              options: optionsFace.value,
            },
            { command: 'restart', operator: 'mallory', reason: 'forged', requestedBy: 'x' },
            how,
          );
          const recorded = store.operatorRequests.record(request.value as never, 1);
          // The one rule for names and reasons trims them (persistence/validation.ts).
          expect(store.operatorRequests.get(recorded.id)).toMatchObject({
            command: 'shutdown',
            operator: operator.trim(),
            reason: reason.trim(),
            options,
          });
          expectReadOnce(request, optionsFace);
        }),
        { numRuns: 60 },
      );
    } finally {
      store.close();
    }
  });

  it("runStartupChecks' adapters", async () => {
    await fc.assert(
      fc.asyncProperty(trick, text, async (how, name) => {
        const gov = new GovernanceSystem({
          dbPath: ':memory:',
          clock: new SimulatedClock(),
          logger: silentLogger(),
          latchUncaughtExceptions: false,
        });
        try {
          const adapter = twoFaced(
            { name, ping: () => true },
            { name: 'other', ping: () => 'forged' },
            how,
          );
          expect(await gov.runStartupChecks([adapter.value as never])).toBe(true);
          const check = gov
            .getLastStartupReport()
            ?.results.find((result) => result.name === 'adapters_reachable');
          expect(check?.details).toBe(`${name}: reachable`);
          expectReadOnce(adapter);
        } finally {
          gov.close();
        }
      }),
      { numRuns: 15 },
    );
  });

  it('the GovernanceSystem options and their thresholds', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Trick>('own getters', 'a Proxy'),
        trick,
        fc.integer({ min: 1_000, max: 4_000 }),
        (thresholdsHow, optionsHow, heartbeatIntervalMs) => {
          const thresholds = twoFaced(
            { heartbeatIntervalMs },
            { heartbeatIntervalMs: 1 },
            thresholdsHow,
            false,
          );
          const options = twoFaced(
            {
              dbPath: ':memory:',
              desiredMode: 'OBSERVE_ONLY',
              thresholds: thresholds.value,
              logger: silentLogger(),
              latchUncaughtExceptions: false,
            },
            {
              dbPath: `${harness.dir}/forged.db`,
              desiredMode: 'AGGRESSIVE',
              thresholds: {},
              latchUncaughtExceptions: true,
            },
            optionsHow,
          );
          const gov = new GovernanceSystem(options.value as never);
          try {
            expect(gov.dbPath).toBe(':memory:');
            expect(gov.getModes().configured).toBe('OBSERVE_ONLY');
            expect(gov.thresholds.heartbeatIntervalMs).toBe(heartbeatIntervalMs);
            expectReadOnce(options, thresholds);
          } finally {
            gov.close();
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
