/**
 * Test support: hostile text and an oracle for the characters that must never be shown as
 * themselves, written from the list rather than from services/display-text.ts, so
 * that property tests compare the module with an independent statement of the rule.
 */
import fc from 'fast-check';

/** Bidi controls, zero-width characters and the soft hyphen, by number. */
const BIDI_AND_ZERO_WIDTH = new Set([
  0x00ad, 0x061c, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e,
  0x2060, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff,
]);

/**
 * C0 controls, DEL, C1 controls, bidi controls, zero-width characters, line and paragraph
 * separators, lone surrogates, and any other Unicode format (Cf) character.
 */
export function mustBeEscaped(character: string): boolean {
  const codePoint = character.codePointAt(0) ?? 0;
  return (
    codePoint < 0x20 ||
    (codePoint >= 0x7f && codePoint <= 0x9f) ||
    codePoint === 0x2028 ||
    codePoint === 0x2029 ||
    (codePoint >= 0xd800 && codePoint <= 0xdfff) ||
    BIDI_AND_ZERO_WIDTH.has(codePoint) ||
    /\p{Cf}/u.test(character)
  );
}

export const hasForbidden = (text: string): boolean => [...text].some(mustBeEscaped);

/** Characters that forge or hide text on a terminal, a web page or a chat message. */
export const TROUBLEMAKERS = [
  '\n',
  '\r',
  '\t',
  '\u0000',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u009b',
  '\u00ad',
  '\u061c',
  '\u200b',
  '\u200d',
  '\u200e',
  '\u202e',
  '\u2060',
  '\u2066',
  '\u2069',
  '\ufeff',
  '\u2028',
  '\u2029',
  '\u{e0041}',
] as const;

/** One unit of hostile text: any code point, a lone surrogate, a troublemaker, or ASCII. */
export const hostileUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
  },
  { weight: 2, arbitrary: fc.constantFrom(...TROUBLEMAKERS, '\\', '[', 'm', ' ') },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
);

export const hostileText = (maxLength = 60): fc.Arbitrary<string> =>
  fc.string({ unit: hostileUnit, maxLength });

/** Text without a single character that must be escaped (any other code point). */
export const printableText = (maxLength = 60): fc.Arbitrary<string> =>
  fc.string({
    unit: fc
      .string({ unit: 'binary', minLength: 1, maxLength: 1 })
      .filter((character) => !mustBeEscaped(character)),
    maxLength,
  });

/** Well-formed text (no lone surrogate) that may hold any control or format character. */
export const wellFormedHostileText = (maxLength = 60): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.oneof(
      { weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
      { weight: 2, arbitrary: fc.constantFrom(...TROUBLEMAKERS) },
      { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
    ),
    maxLength,
  });
