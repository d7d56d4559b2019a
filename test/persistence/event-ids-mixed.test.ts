/**
 * Goal: a database written while event ids were random UUIDv4 (the default before UUIDv7) keeps
 * working without a migration: new UUIDv7 ids append after the old rows, the chain and the whole
 * file verify, every kind of id stays unique, and caller-supplied ids of any form are accepted.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, Store } from '../../persistence/index.js';
import { verifyDatabase } from '../../services/health/verify-database.js';
import { expectGovernorError, rawConnection, steppingClock, tempDatabasePath } from './helpers.js';

const UUID_V4_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_V7_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A log as the previous default wrote it: every id a `randomUUID()`. */
function writeUuidV4Log(path: string, clock: { wallNow(): number }): string[] {
  const store = Store.open(path, { clock });
  const ids = Array.from({ length: 50 }, () => randomUUID());
  store.events.append({ eventType: 'T', reason: 'single v4', eventId: ids[0] as string });
  store.events.appendBatch(
    ids.slice(1).map((eventId, index) => ({ eventType: 'B', reason: `v4 ${index}`, eventId })),
  );
  store.close();
  return ids;
}

describe('event ids across the UUIDv4 to UUIDv7 change', () => {
  it('appends UUIDv7 events after UUIDv4 ones in the same file, and the chain verifies', () => {
    const path = tempDatabasePath();
    const clock = steppingClock();
    const v4Ids = writeUuidV4Log(path, clock);
    const store = Store.open(path, { clock });
    const single = store.events.append({ eventType: 'T', reason: 'single v7' });
    const batch = store.events.appendBatch(
      Array.from({ length: 20 }, (_, index) => ({ eventType: 'B', reason: `v7 ${index}` })),
    );
    const supplied = store.events.append({
      eventType: 'T',
      reason: 'caller id',
      eventId: 'order-17/fill-2',
    });

    const stored = [...store.events.iterate()];
    expect(stored.map((event) => event.seq)).toEqual(stored.map((_, index) => index + 1));
    expect(stored.slice(0, 50).map((event) => event.eventId)).toEqual(v4Ids);
    expect(stored.slice(0, 50).every((event) => UUID_V4_PATTERN.test(event.eventId))).toBe(true);
    const newIds = [single, ...batch].map((event) => event.eventId);
    expect(newIds.every((id) => UUID_V7_PATTERN.test(id))).toBe(true);
    expect(newIds).toEqual([...newIds].sort());
    expect(supplied.eventId).toBe('order-17/fill-2');
    expect(store.integrityScan.verifyChain()).toEqual({
      ok: true,
      checked: 72,
      head: { seq: 72, hash: supplied.hash },
    });

    // The UNIQUE index holds both kinds of id together.
    expectGovernorError(
      () => store.events.append({ eventType: 'T', reason: 'again', eventId: v4Ids[7] as string }),
      'GOV_DUPLICATE_EVENT_ID',
    );
    expectGovernorError(
      () => store.events.append({ eventType: 'T', reason: 'again', eventId: single.eventId }),
      'GOV_DUPLICATE_EVENT_ID',
    );
    store.close();

    const raw = rawConnection(path, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
    const verified = verifyDatabase({ dbPath: path });
    expect(verified.violations).toEqual([]);
    expect(verified.ok).toBe(true);
  });
});
