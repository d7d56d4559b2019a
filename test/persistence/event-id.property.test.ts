/**
 * Goal (property): generated event ids are RFC 9562 UUIDv7 text (version 7, variant 10, the
 * timestamp of the latest wall-clock reading), strictly increasing as strings and as bytes, and
 * so unique, whatever the clock does: many ids in one millisecond, steps back, long jumps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createEventIdGenerator,
  type EventIdSource,
  nextEventId,
  UUID_V7_TIMESTAMP_MS_MAX,
} from '../../persistence/event-id.js';

const UUID_V7_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface DecodedId {
  readonly bytes: Buffer;
  readonly timestampMs: number;
  /** The 42-bit counter: rand_a, then the 30 bits of rand_b after the variant. */
  readonly counter: number;
}

function decode(id: string): DecodedId {
  const bytes = Buffer.from(id.replaceAll('-', ''), 'hex');
  const timestampMs = bytes.readUIntBE(0, 6);
  const randA = bytes.readUInt16BE(6) & 0x0fff;
  const randBHigh30 = bytes.readUInt32BE(8) & 0x3fffffff;
  return { bytes, timestampMs, counter: randA * 2 ** 30 + randBHigh30 };
}

/** A source that replays `readings` (then repeats the last) and cycles through `words`. */
function scriptedSource(readings: readonly number[], words: readonly number[]): EventIdSource {
  let reading = 0;
  let word = 0;
  return {
    wallNowMs: () => readings[Math.min(reading++, readings.length - 1)] ?? 0,
    fillRandom: (target) => {
      for (let index = 0; index < target.length; index++) {
        target[index] = words[word++ % words.length] ?? 0;
      }
    },
  };
}

const START_MS = Date.UTC(2025, 11, 17, 9);

/** Wall-clock readings: mostly small steps (0 ms: same millisecond), some back, some far. */
const wallClock = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(0) },
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }) },
      { weight: 2, arbitrary: fc.integer({ min: -5_000, max: -1 }) },
      { weight: 1, arbitrary: fc.integer({ min: -86_400_000, max: 86_400_000 }) },
    ),
    { minLength: 1, maxLength: 400 },
  )
  .map((steps) => {
    let now = START_MS;
    return steps.map((step) => {
      now += step;
      return now;
    });
  });

/** Random words, with the values that put a fresh counter next to a carry. */
const randomWords = fc.array(
  fc.oneof(
    fc.integer({ min: 0, max: 0xffffffff }),
    fc.constantFrom(0, 0xffffffff, 0x0000ffff, 0x3ffeffff, 0x3fffffff, 0x7ff),
  ),
  { minLength: 1, maxLength: 16 },
);

describe('event ids (UUIDv7)', () => {
  it('are valid, strictly increasing as text and bytes, and carry the latest clock reading', () => {
    fc.assert(
      fc.property(wallClock, randomWords, (readings, words) => {
        const next = createEventIdGenerator(scriptedSource(readings, words));
        const seen = new Set<string>();
        let previous: DecodedId | null = null;
        let previousText = '';
        let latestMs = -1;
        for (const reading of readings) {
          const id = next();
          latestMs = Math.max(latestMs, reading);
          expect(id).toMatch(UUID_V7_PATTERN);
          const decoded = decode(id);
          // Within 2^41 ids of one millisecond the timestamp is never borrowed from the future.
          expect(decoded.timestampMs).toBe(latestMs);
          if (previous !== null) {
            expect(id > previousText).toBe(true);
            expect(Buffer.compare(decoded.bytes, previous.bytes)).toBe(1);
            if (decoded.timestampMs === previous.timestampMs) {
              expect(decoded.counter).toBe(previous.counter + 1);
            }
          }
          seen.add(id);
          previous = decoded;
          previousText = id;
        }
        expect(seen.size).toBe(readings.length);
      }),
      { numRuns: 300 },
    );
  });

  it('carries the counter from its low 30 bits into rand_a', () => {
    // Seed words: rand_a 0x7ff and the low 30 bits all ones, so the second id must carry.
    const next = createEventIdGenerator(scriptedSource([START_MS], [0xffffffff]));
    const first = decode(next());
    const second = decode(next());
    expect(first.counter).toBe(0x7ff * 2 ** 30 + 0x3fffffff);
    expect(second.counter).toBe(0x800 * 2 ** 30);
    expect(Buffer.compare(second.bytes, first.bytes)).toBe(1);
  });

  it('writes the whole 48-bit timestamp range', () => {
    for (const ms of [0, 1, 2 ** 32 - 1, 2 ** 32, START_MS, UUID_V7_TIMESTAMP_MS_MAX]) {
      const id = createEventIdGenerator(scriptedSource([ms], [0]))();
      expect(id).toMatch(UUID_V7_PATTERN);
      expect(decode(id).timestampMs).toBe(ms);
    }
  });

  it('refuses a wall clock outside the 48-bit range as a broken invariant', () => {
    for (const ms of [-1, 0.5, Number.NaN, UUID_V7_TIMESTAMP_MS_MAX + 1]) {
      const next = createEventIdGenerator(scriptedSource([ms], [0]));
      expect(next).toThrow(/invariant violated: event id timestamp out of range/);
    }
  });

  it("the process's generator increases across many ids in the same millisecond", () => {
    const before = Date.now();
    const ids = Array.from({ length: 20_000 }, () => nextEventId());
    const after = Date.now();
    for (let index = 1; index < ids.length; index++) {
      expect((ids[index] as string) > (ids[index - 1] as string)).toBe(true);
    }
    expect(ids.every((id) => UUID_V7_PATTERN.test(id))).toBe(true);
    // The timestamp is the wall clock's (this fails only if the system clock is stepped meanwhile).
    expect(decode(ids[0] as string).timestampMs).toBeGreaterThanOrEqual(before);
    expect(decode(ids.at(-1) as string).timestampMs).toBeLessThanOrEqual(after);
  });
});
