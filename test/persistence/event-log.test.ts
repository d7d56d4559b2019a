/**
 * Goal: the event log round-trips events, keeps seq contiguous and the hash chain valid across
 * rollbacks and other writers, streams without loading the log, and refuses bad input unchanged.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeEventHash, GENESIS_HASH, LIMITS, Store } from '../../persistence/index.js';
import {
  dumpDatabase,
  expectGovernorError,
  rawConnection,
  steppingClock,
  tempDatabasePath,
} from './helpers.js';

function openTemp(): { store: Store; path: string } {
  const path = tempDatabasePath();
  return { store: Store.open(path, { clock: steppingClock() }), path };
}

describe('events', () => {
  it('round-trips an event with its metadata, timestamp from the clock, and hash', () => {
    const { store } = openTemp();
    const appended = store.events.append({
      eventType: 'SYSTEM_MODE_CHANGE',
      reason: 'Heartbeat - system alive',
      metadata: { heartbeat: true, uptime: '2d 5h 30m', nested: [1, 'two', null] },
      eventId: 'event-1',
    });
    expect(appended).toEqual({
      seq: 1,
      eventId: 'event-1',
      timestamp: appended.timestamp,
      hash: appended.hash,
    });
    expect(appended.timestamp).toMatch(/^2025-12-17T09:00:00\.\d{3}Z$/);
    expect(store.events.get(1)).toEqual({
      seq: 1,
      eventId: 'event-1',
      timestamp: appended.timestamp,
      eventType: 'SYSTEM_MODE_CHANGE',
      reason: 'Heartbeat - system alive',
      metadata: { heartbeat: true, uptime: '2d 5h 30m', nested: [1, 'two', null] },
      prevHash: GENESIS_HASH,
      hash: appended.hash,
    });
    expect(store.events.get(2)).toBeNull();
    expect(store.events.head()).toEqual({ seq: 1, hash: appended.hash });
    store.close();
  });

  it('defaults metadata to {} and eventId to a UUIDv7', () => {
    const { store } = openTemp();
    const appended = store.events.append({ eventType: 'T', reason: 'r' });
    expect(appended.eventId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(store.events.get(1)?.metadata).toEqual({});
    store.close();
  });

  it('computes the hash as documented: SHA-256 of the JSON array of the columns', () => {
    const { store, path } = openTemp();
    store.events.append({ eventType: 'T', reason: 'ünïcode "quoted"\n', metadata: { a: 'é' } });
    store.close();
    const raw = rawConnection(path, { readonly: true });
    const row = raw.prepare('SELECT * FROM events WHERE seq = 1').get() as Record<
      string,
      string | number
    >;
    raw.close();
    const encoded = JSON.stringify([
      row.seq,
      row.event_id,
      row.timestamp,
      row.event_type,
      row.reason,
      row.metadata,
      row.prev_hash,
    ]);
    expect(createHash('sha256').update(encoded, 'utf8').digest('hex')).toBe(row.hash);
    expect(row.metadata).toBe('{"a":"é"}');
    expect(row.prev_hash).toBe('0'.repeat(64));
  });

  it('appends a batch in one transaction, contiguous, linked to the previous head', () => {
    const { store } = openTemp();
    const first = store.events.append({ eventType: 'T', reason: 'first' });
    const batch = store.events.appendBatch(
      Array.from({ length: 5 }, (_, index) => ({ eventType: 'B', reason: `batch ${index}` })),
    );
    expect(batch.map((event) => event.seq)).toEqual([2, 3, 4, 5, 6]);
    expect(store.events.get(2)?.prevHash).toBe(first.hash);
    expect(store.integrityScan.verifyChain()).toEqual({
      ok: true,
      checked: 6,
      head: { seq: 6, hash: batch[4]?.hash },
    });
    expect(store.events.appendBatch([])).toEqual([]);
    store.close();
  });

  it('writes nothing from a batch with one bad event', () => {
    const { store, path } = openTemp();
    store.events.append({ eventType: 'T', reason: 'r' });
    const before = dumpDatabase(path);
    expectGovernorError(
      () =>
        store.events.appendBatch([
          { eventType: 'T', reason: 'ok' },
          { eventType: 'T', reason: '' },
        ]),
      'GOV_INVALID_TEXT',
    );
    expectGovernorError(
      () =>
        store.events.appendBatch([
          { eventType: 'T', reason: 'ok', eventId: 'same' },
          { eventType: 'T', reason: 'ok', eventId: 'same' },
        ]),
      'GOV_DUPLICATE_EVENT_ID',
    );
    expect(dumpDatabase(path)).toBe(before);
    expect(store.events.append({ eventType: 'T', reason: 'next' }).seq).toBe(2);
    store.close();
  });

  it('keeps the cached head right after an enclosing transaction rolls back', () => {
    const { store } = openTemp();
    store.events.append({ eventType: 'T', reason: 'kept' });
    expect(() =>
      store.transaction(() => {
        store.events.append({ eventType: 'T', reason: 'rolled back' });
        store.events.append({ eventType: 'T', reason: 'rolled back too' });
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(store.events.head()?.seq).toBe(1);
    expect(store.events.append({ eventType: 'T', reason: 'after' }).seq).toBe(2);
    expect(store.integrityScan.verifyChain().ok).toBe(true);
    store.close();
  });

  it('commits appends made inside store.transaction together with other writes', () => {
    const { store } = openTemp();
    store.transaction(() => {
      store.events.append({ eventType: 'MODE', reason: 'observe' });
      store.systemState.setDesiredMode('AGGRESSIVE');
    });
    expect(store.events.count()).toBe(1);
    expect(store.systemState.get().desiredMode).toBe('AGGRESSIVE');
    store.close();
  });

  it('sees appends made by another connection (the cached head is refreshed)', () => {
    const { store, path } = openTemp();
    store.events.append({ eventType: 'T', reason: 'one' });
    const other = Store.open(path);
    other.events.append({ eventType: 'T', reason: 'two, from another connection' });
    other.close();
    expect(store.events.append({ eventType: 'T', reason: 'three' }).seq).toBe(3);
    expect(store.integrityScan.verifyChain()).toMatchObject({ ok: true, checked: 3 });
    store.close();
  });

  it('streams with iterate() across pages and lets writes interleave', () => {
    const { store } = openTemp();
    store.events.appendBatch(
      Array.from({ length: 1100 }, (_, index) => ({ eventType: 'T', reason: `e${index}` })),
    );
    let expected = 1;
    for (const event of store.events.iterate()) {
      expect(event.seq).toBe(expected++);
      if (event.seq === 1000) store.events.append({ eventType: 'T', reason: 'during iteration' });
    }
    expect(expected).toBe(1102);
    expect([...store.events.iterate(1099)].map((event) => event.seq)).toEqual([1099, 1100, 1101]);
    expect(store.events.readPage(10, 3).map((event) => event.seq)).toEqual([10, 11, 12]);
    expect(store.events.count()).toBe(1101);
    store.close();
  });

  it('verifies from a given seq against a remembered head', () => {
    const { store } = openTemp();
    const events = store.events.appendBatch(
      Array.from({ length: 10 }, (_, index) => ({ eventType: 'T', reason: `e${index}` })),
    );
    const fifth = events[4];
    if (fifth === undefined) throw new Error('no fifth event');
    expect(
      store.integrityScan.verifyChain({ fromSeq: 6, expectedPrevHash: fifth.hash }),
    ).toMatchObject({
      ok: true,
      checked: 5,
      head: { seq: 10 },
    });
    expect(store.integrityScan.verifyChain({ fromSeq: 6, expectedPrevHash: GENESIS_HASH })).toEqual(
      {
        ok: false,
        seq: 6,
        problem: 'PREV_HASH_MISMATCH',
        checked: 0,
      },
    );
    expect(store.integrityScan.verifyChain({ fromSeq: 11 })).toEqual({
      ok: true,
      checked: 0,
      head: null,
    });
    store.close();
  });

  it('reports a gap, a broken link and a changed row', () => {
    const { store, path } = openTemp();
    store.events.appendBatch(
      Array.from({ length: 5 }, (_, index) => ({ eventType: 'T', reason: `e${index}` })),
    );
    const raw = rawConnection(path);
    raw.prepare("UPDATE events SET reason = 'edited' WHERE seq = 3").run();
    expect(store.integrityScan.verifyChain()).toEqual({
      ok: false,
      seq: 3,
      problem: 'HASH_MISMATCH',
      checked: 2,
    });
    raw.prepare('DELETE FROM events WHERE seq = 3').run();
    expect(store.integrityScan.verifyChain()).toEqual({
      ok: false,
      seq: 3,
      problem: 'SEQ_GAP',
      checked: 2,
    });
    raw.close();
    store.close();
  });

  it('exposes computeEventHash for operators recomputing the chain', () => {
    const hash = computeEventHash({
      seq: 1,
      eventId: 'e',
      timestamp: '2025-12-17T09:00:00.000Z',
      eventType: 'T',
      reason: 'r',
      metadataText: '{}',
      prevHash: GENESIS_HASH,
    });
    const expected = createHash('sha256')
      .update(JSON.stringify([1, 'e', '2025-12-17T09:00:00.000Z', 'T', 'r', '{}', GENESIS_HASH]))
      .digest('hex');
    expect(hash).toBe(expected);
  });
});

describe('events: refused input writes nothing', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['empty event type', { eventType: '', reason: 'r' }, 'GOV_INVALID_TEXT'],
    ['non-string reason', { eventType: 'T', reason: 42 }, 'GOV_INVALID_ARGUMENT'],
    ['empty reason', { eventType: 'T', reason: '' }, 'GOV_INVALID_TEXT'],
    ['lone surrogate in reason', { eventType: 'T', reason: 'a\ud800b' }, 'GOV_INVALID_TEXT'],
    [
      'reason over 4 KiB',
      { eventType: 'T', reason: 'x'.repeat(LIMITS.reasonBytesMax + 1) },
      'GOV_PAYLOAD_TOO_LARGE',
    ],
    [
      'reason over 4 KiB in UTF-8 bytes',
      { eventType: 'T', reason: 'é'.repeat(2049) },
      'GOV_PAYLOAD_TOO_LARGE',
    ],
    [
      'event type over 128 bytes',
      { eventType: 'T'.repeat(129), reason: 'r' },
      'GOV_PAYLOAD_TOO_LARGE',
    ],
    [
      'metadata with a function',
      { eventType: 'T', reason: 'r', metadata: { f: () => 1 } },
      'GOV_INVALID_METADATA',
    ],
    [
      'metadata with a cycle',
      { eventType: 'T', reason: 'r', metadata: cyclic },
      'GOV_INVALID_METADATA',
    ],
    [
      'metadata with NaN',
      { eventType: 'T', reason: 'r', metadata: { x: Number.NaN } },
      'GOV_INVALID_METADATA',
    ],
    [
      'metadata with Infinity',
      { eventType: 'T', reason: 'r', metadata: [Infinity] },
      'GOV_INVALID_METADATA',
    ],
    [
      'metadata with a bigint',
      { eventType: 'T', reason: 'r', metadata: { x: 1n } },
      'GOV_INVALID_METADATA',
    ],
    [
      'metadata with a Date',
      { eventType: 'T', reason: 'r', metadata: { at: new Date(0) } },
      'GOV_INVALID_METADATA',
    ],
    [
      'metadata with undefined in an array',
      { eventType: 'T', reason: 'r', metadata: [undefined] },
      'GOV_INVALID_METADATA',
    ],
    [
      'metadata that is a symbol',
      { eventType: 'T', reason: 'r', metadata: Symbol('s') },
      'GOV_INVALID_METADATA',
    ],
    [
      'metadata over 64 KiB',
      { eventType: 'T', reason: 'r', metadata: { blob: 'x'.repeat(LIMITS.metadataBytesMax) } },
      'GOV_PAYLOAD_TOO_LARGE',
    ],
    ['empty event id', { eventType: 'T', reason: 'r', eventId: '' }, 'GOV_INVALID_TEXT'],
    [
      'duplicate event id',
      { eventType: 'T', reason: 'r', eventId: 'existing' },
      'GOV_DUPLICATE_EVENT_ID',
    ],
  ];

  it.each(cases)('%s', (_name, input, code) => {
    const path = tempDatabasePath();
    const store = Store.open(path, { clock: steppingClock() });
    store.events.append({ eventType: 'T', reason: 'existing', eventId: 'existing' });
    const before = dumpDatabase(path);
    expectGovernorError(
      () => store.events.append(input as unknown as Parameters<typeof store.events.append>[0]),
      code as Parameters<typeof expectGovernorError>[1],
    );
    expect(dumpDatabase(path)).toBe(before);
    expect(store.events.append({ eventType: 'T', reason: 'still fine' }).seq).toBe(2);
    store.close();
  });

  it('omits object properties whose value is undefined, as JSON does', () => {
    const store = Store.open(':memory:');
    store.events.append({ eventType: 'T', reason: 'r', metadata: { kept: 1, dropped: undefined } });
    expect(store.events.get(1)?.metadata).toEqual({ kept: 1 });
    store.close();
  });

  it('checks seq and limit arguments of the readers', () => {
    const store = Store.open(':memory:');
    expectGovernorError(() => store.events.get(0), 'GOV_INVALID_ARGUMENT');
    expectGovernorError(() => store.events.iterate(1.5), 'GOV_INVALID_ARGUMENT');
    expectGovernorError(() => store.events.readPage(1, 0), 'GOV_INVALID_ARGUMENT');
    expectGovernorError(() => store.events.readPage(1, 10_001), 'GOV_INVALID_ARGUMENT');
    expectGovernorError(
      () => store.integrityScan.verifyChain({ fromSeq: -1 }),
      'GOV_INVALID_ARGUMENT',
    );
    store.close();
  });
});
