/**
 * Time-ordered event ids: RFC 9562 UUIDv7 (48-bit Unix ms timestamp, version 7, variant 10, a
 * 42-bit counter in rand_a and the top of rand_b, 32 random bits), strictly increasing within the
 * process even when many ids fall in one millisecond or the wall clock steps back (RFC 9562 §6.2,
 * method 1). New rows land at the right edge of the `event_id` UNIQUE index instead of at a random
 * page, so appends stay flat as the log grows (docs/schema.md, "Event ids").
 */
import { createRequire } from 'node:module';
import { AssertionError } from '../services/errors.js';

/** Where a generator reads time and randomness; tests substitute both. */
export interface EventIdSource {
  /** Wall time in Unix ms: a safe integer from 0 to 2^48 − 1. */
  readonly wallNowMs: () => number;
  /** Fills `words` with uniformly random 32-bit words. */
  readonly fillRandom: (words: Uint32Array) => void;
}

/** The largest 48-bit timestamp a UUIDv7 can hold (year 10889). */
export const UUID_V7_TIMESTAMP_MS_MAX = 2 ** 48 - 1;

/** The counter's 12 high bits (rand_a) and 30 low bits (the first 30 bits of rand_b). */
const COUNTER_HIGH_MAX = 0xfff;
const COUNTER_LOW_MAX = 0x3fffffff;
/** A fresh millisecond's counter starts with its top bit clear: 2^41 ids of headroom. */
const COUNTER_HIGH_SEED_MASK = 0x7ff;
const RANDOM_POOL_WORDS = 1024;

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, byte) =>
  byte.toString(16).padStart(2, '0'),
);
const HEX_DIGIT = '0123456789abcdef';

function hexByte(byte: number): string {
  return HEX_BYTE[byte & 0xff] as string;
}

function hexWord(word: number): string {
  return hexByte(word >>> 24) + hexByte(word >>> 16) + hexByte(word >>> 8) + hexByte(word);
}

/** `tttttttt-tttt-`: the 48-bit timestamp, hyphenated. */
function timestampPrefix(ms: number): string {
  const high16 = Math.floor(ms / 2 ** 32);
  const low32 = ms >>> 0;
  const high32 = ((high16 << 16) | (low32 >>> 16)) >>> 0;
  return `${hexWord(high32)}-${hexByte(low32 >>> 8)}${hexByte(low32)}-`;
}

/**
 * `7hhh-vhhh-`: version 7 with the counter's high 12 bits, then the variant (binary 10) with the
 * counter's low bits 29..16.
 */
function counterPrefix(high: number, low: number): string {
  const variantAndLow = 0x8000 | (low >>> 16);
  return `7${HEX_DIGIT[high >>> 8]}${hexByte(high)}-${hexByte(variantAndLow >>> 8)}${hexByte(variantAndLow)}-`;
}

function checkTimestampMs(ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > UUID_V7_TIMESTAMP_MS_MAX) {
    throw new AssertionError(`event id timestamp out of range: ${String(ms)}`);
  }
}

const requireBuiltin = createRequire(import.meta.url);
let randomFill: ((words: Uint32Array) => void) | null = null;

/** Randomness from node:crypto, loaded at the first id (a read never makes one). */
const systemSource: EventIdSource = {
  wallNowMs: () => Date.now(),
  fillRandom: (words) => {
    randomFill ??= (requireBuiltin('node:crypto') as typeof import('node:crypto')).randomFillSync;
    randomFill(words);
  },
};

/**
 * A generator of UUIDv7 text ids (lower-case, hyphenated), each greater, as bytes and as a string,
 * than every id it returned before.
 */
export function createEventIdGenerator(source: EventIdSource = systemSource): () => string {
  const pool = new Uint32Array(RANDOM_POOL_WORDS);
  let poolIndex = RANDOM_POOL_WORDS;
  let lastMs = -1;
  let counterHigh = 0;
  let counterLow = 0;
  let timestampText = '';
  let prefix = '';

  function randomWord(): number {
    if (poolIndex === RANDOM_POOL_WORDS) {
      source.fillRandom(pool);
      poolIndex = 0;
    }
    return pool[poolIndex++] as number;
  }

  function startMillisecond(ms: number): void {
    checkTimestampMs(ms);
    lastMs = ms;
    counterHigh = randomWord() & COUNTER_HIGH_SEED_MASK;
    counterLow = randomWord() & COUNTER_LOW_MAX;
    timestampText = timestampPrefix(ms);
    prefix = timestampText + counterPrefix(counterHigh, counterLow);
  }

  /** Same millisecond, or the clock went back: count on from the last id. */
  function advanceCounter(): void {
    if (counterLow < COUNTER_LOW_MAX) {
      counterLow++;
      // Bits 29..16 sit in the prefix; they change once every 65,536 ids.
      if ((counterLow & 0xffff) === 0) {
        prefix = timestampText + counterPrefix(counterHigh, counterLow);
      }
      return;
    }
    if (counterHigh < COUNTER_HIGH_MAX) {
      counterHigh++;
      counterLow = 0;
      prefix = timestampText + counterPrefix(counterHigh, counterLow);
      return;
    }
    // 2^41 ids in one millisecond: borrow the next one, as RFC 9562 §6.2 allows.
    startMillisecond(lastMs + 1);
  }

  return function nextEventId(): string {
    const nowMs = source.wallNowMs();
    checkTimestampMs(nowMs);
    if (nowMs > lastMs) startMillisecond(nowMs);
    else advanceCounter();
    return prefix + hexByte(counterLow >>> 8) + hexByte(counterLow) + hexWord(randomWord());
  };
}

/** The process's generator: ids from every store in this process increase together. */
export const nextEventId: () => string = createEventIdGenerator();
