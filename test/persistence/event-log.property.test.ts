/**
 * Goal (property): for any sequence of appends and batches the chain verifies and seq runs
 * 1..n without a gap; any single change to any column of any stored event is detected.
 */
import { createHash } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeEventHash, type EventInput, Store } from '../../persistence/index.js';
import type { GovernorError } from '../../services/errors.js';
import { expectGovernorError, rawConnection, steppingClock, tempDatabasePath } from './helpers.js';

const jsonValue = fc
  .jsonValue({ maxDepth: 3 })
  .map((value) => JSON.parse(JSON.stringify(value)) as unknown);

const eventInput: fc.Arbitrary<EventInput> = fc.record(
  {
    eventType: fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }),
    reason: fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' }),
    metadata: jsonValue,
  },
  { requiredKeys: ['eventType', 'reason'] },
);

const operation = fc.oneof(
  eventInput.map((input) => ({ kind: 'append' as const, inputs: [input] })),
  fc.array(eventInput, { maxLength: 8 }).map((inputs) => ({ kind: 'batch' as const, inputs })),
);

const COLUMNS = [
  'seq',
  'event_id',
  'timestamp',
  'event_type',
  'reason',
  'metadata',
  'prev_hash',
  'hash',
] as const;

describe('event log properties', () => {
  it('computeEventHash equals SHA-256 of JSON.stringify of the column array, for any text', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { minLength: 6, maxLength: 6 }),
        (
          seq,
          [
            eventId = '',
            timestamp = '',
            eventType = '',
            reason = '',
            metadataText = '',
            prevHash = '',
          ],
        ) => {
          const fields = { seq, eventId, timestamp, eventType, reason, metadataText, prevHash };
          const encoded = JSON.stringify([
            seq,
            eventId,
            timestamp,
            eventType,
            reason,
            metadataText,
            prevHash,
          ]);
          expect(computeEventHash(fields)).toBe(
            createHash('sha256').update(encoded, 'utf8').digest('hex'),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('any sequence of appends verifies, with seq contiguous from 1 and round-tripping', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 15 }), (operations) => {
        const store = Store.open(':memory:', { clock: steppingClock() });
        const expected: EventInput[] = [];
        for (const op of operations) {
          if (op.kind === 'append' && op.inputs[0] !== undefined) store.events.append(op.inputs[0]);
          else store.events.appendBatch(op.inputs);
          expected.push(...op.inputs);
        }
        const events = [...store.events.iterate()];
        expect(events.map((event) => event.seq)).toEqual(expected.map((_, index) => index + 1));
        events.forEach((event, index) => {
          expect(event.reason).toBe(expected[index]?.reason);
          const input = expected[index];
          expect(event.metadata).toEqual(
            input !== undefined && 'metadata' in input ? input.metadata : {},
          );
        });
        expect(store.integrityScan.verifyChain()).toMatchObject({
          ok: true,
          checked: expected.length,
        });
        store.close();
      }),
      { numRuns: 60 },
    );
  });

  it('a batch of any size writes every row or none, and a refusal names the first duplicate id', () => {
    // Batches go through 32-row INSERT statements and single rows for the rest; ids come from a
    // small pool (or are generated), so duplicates fall inside statements, across them, and
    // against the stored log.
    const batchOfIds = fc.array(
      fc.option(fc.integer({ min: 0, max: 2000 }), { nil: undefined, freq: 2 }),
      {
        maxLength: 120,
        size: 'max',
      },
    );
    fc.assert(
      fc.property(fc.array(batchOfIds, { minLength: 1, maxLength: 4 }), (batches) => {
        const store = Store.open(':memory:', { clock: steppingClock() });
        const stored = new Set<string>();
        for (const batch of batches) {
          const inputs = batch.map((id, index) => ({
            eventType: 'B',
            reason: `event ${index}`,
            metadata: { index },
            ...(id === undefined ? {} : { eventId: `id-${id}` }),
          }));
          const seen = new Set(stored);
          const firstDuplicate = inputs.find((input) => {
            if (input.eventId === undefined) return false;
            if (seen.has(input.eventId)) return true;
            seen.add(input.eventId);
            return false;
          });
          const countBefore = store.events.count();
          if (firstDuplicate === undefined) {
            const appended = store.events.appendBatch(inputs);
            expect(appended.map((event) => event.seq)).toEqual(
              inputs.map((_, index) => countBefore + index + 1),
            );
            for (const event of appended) stored.add(event.eventId);
          } else {
            const error = expectGovernorError(
              () => store.events.appendBatch(inputs),
              'GOV_DUPLICATE_EVENT_ID',
            );
            expect((error as GovernorError).details.eventId).toBe(firstDuplicate.eventId);
            expect(store.events.count()).toBe(countBefore);
          }
        }
        expect(store.integrityScan.verifyChain()).toMatchObject({ ok: true, checked: stored.size });
        expect([...store.events.iterate()].map((event) => event.eventId)).toEqual([...stored]);
        store.close();
      }),
      { numRuns: 60 },
    );
  });

  it('any single change to any column of any stored event is detected by verifyChain', () => {
    const path = tempDatabasePath();
    const store = Store.open(path, { clock: steppingClock() });
    store.events.appendBatch(
      Array.from({ length: 12 }, (_, index) => ({
        eventType: index % 2 === 0 ? 'SYSTEM_MODE_CHANGE' : 'ALERT_RAISED',
        reason: `event ${index}`,
        metadata: { index, tags: ['a', 'b'] },
      })),
    );
    store.close();
    const replacement = fc.oneof(
      fc.string({ maxLength: 70 }),
      fc.integer({ min: -5, max: 100 }),
      fc.constantFrom(
        '{}',
        '{"index":0,"tags":["a","b"]}',
        ' {"index":1}',
        '0'.repeat(64),
        'event 1',
      ),
    );
    const copyPath = join(dirname(path), 'tampered.db');
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(...COLUMNS),
        replacement,
        (seq, column, value) => {
          copyFileSync(path, copyPath);
          const raw = rawConnection(copyPath);
          try {
            const before = raw
              .prepare(`SELECT ${column} AS value FROM events WHERE seq = ?`)
              .get(seq) as {
              value: unknown;
            };
            fc.pre(before.value !== value && String(before.value) !== String(value));
            try {
              raw.prepare(`UPDATE events SET ${column} = ? WHERE seq = ?`).run(value, seq);
            } catch {
              fc.pre(false); // the change breaks a constraint (e.g. a duplicate seq): not storable
            }
          } finally {
            raw.close();
          }
          const reader = Store.open(copyPath, { readonly: true });
          const result = reader.integrityScan.verifyChain();
          reader.close();
          expect(result.ok).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});
