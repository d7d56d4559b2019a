/**
 * Goal: untrusted text can be shown but never acts. `displayText` turns every control, bidi,
 * zero-width and line-separator character into a visible escape and leaves every other
 * character alone; `toJson` keeps the value but escapes what JSON.stringify leaves raw.
 * Properties over arbitrary strings (every code point, lone surrogates included) hold both.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toJson } from '../../services/cli/output.js';
import {
  clip,
  clipBytes,
  describeCharacter,
  displayText,
  escapeJsonForDisplay,
  findLoneSurrogate,
  findUnsafeCharacter,
} from '../../services/display-text.js';
import { AssertionError } from '../../services/errors.js';
import { hasForbidden, hostileText, printableText } from '../support/hostile-text.js';

const hostile = hostileText();
const printable = printableText();

describe('displayText', () => {
  it('shows controls, bidi and zero-width characters as visible escapes', () => {
    expect(displayText('a\nb\rc\td')).toBe('a\\nb\\rc\\td');
    expect(displayText('\u0000\u001b[31m\u007f\u0085\u009b')).toBe('\\x00\\x1b[31m\\x7f\\x85\\x9b');
    expect(displayText('user\u202eexe.txt')).toBe('user\\u202eexe.txt');
    expect(displayText('\u200b\u200c\u200d\u2060\ufeff\u00ad\u061c')).toBe(
      '\\u200b\\u200c\\u200d\\u2060\\ufeff\\u00ad\\u061c',
    );
    expect(displayText('\u2028\u2029\u2066\u2069')).toBe('\\u2028\\u2029\\u2066\\u2069');
    expect(displayText('tag\u{e0041}')).toBe('tag\\u{e0041}');
    expect(displayText('lone \ud800 \udfff')).toBe('lone \\ud800 \\udfff');
  });

  it('leaves ordinary text alone, accents, emoji and backslashes included', () => {
    for (const text of ['alice', 'Zoë Ødegård', '山田 太郎', 'ok 👍🏽', 'C:\\temp\\n', 'a  b']) {
      expect(displayText(text)).toBe(text);
    }
  });

  it('a reason with a newline and ANSI escapes stays on one line and shows its escapes', () => {
    const forged = 'timeout\n  gate        \u001b[32mopen\u001b[0m: AGGRESSIVE';
    expect(displayText(forged)).toBe('timeout\\n  gate        \\x1b[32mopen\\x1b[0m: AGGRESSIVE');
  });

  it('cuts at maxLength on a whole escape and marks the cut', () => {
    expect(displayText('abcdef', { maxLength: 6 })).toBe('abcdef');
    expect(displayText('abcdefg', { maxLength: 6 })).toBe('abcde…');
    expect(displayText('ab\ncd', { maxLength: 5 })).toBe('ab\\n…');
    expect(displayText('ab\ncd', { maxLength: 4 })).toBe('ab…');
    expect(displayText('a👍b', { maxLength: 3 })).toBe('a…');
    expect(() => displayText('x', { maxLength: 0 })).toThrow(AssertionError);
  });

  it('property: the result never holds a control, bidi, zero-width or separator character', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        expect(hasForbidden(displayText(text))).toBe(false);
      }),
      { numRuns: 2_000 },
    );
  });

  it('property: text without such characters comes back unchanged', () => {
    fc.assert(
      fc.property(printable, (text) => {
        expect(displayText(text)).toBe(text);
      }),
      { numRuns: 2_000 },
    );
  });

  it('property: text is changed exactly when it holds such a character', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        expect(displayText(text) !== text).toBe(hasForbidden(text));
        expect(findUnsafeCharacter(text) !== null).toBe(hasForbidden(text));
      }),
      { numRuns: 2_000 },
    );
  });

  it('property: with maxLength the result fits and is a prefix of the whole display', () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 1, max: 80 }), (text, maxLength) => {
        const whole = displayText(text);
        const cut = displayText(text, { maxLength });
        expect(cut.length).toBeLessThanOrEqual(maxLength);
        if (whole.length <= maxLength) expect(cut).toBe(whole);
        else {
          expect(cut.endsWith('…')).toBe(true);
          expect(whole.startsWith(cut.slice(0, -1))).toBe(true);
        }
        expect(hasForbidden(cut)).toBe(false);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('describeCharacter and findUnsafeCharacter', () => {
  it('name the character and count its position in characters from 1', () => {
    expect(findUnsafeCharacter('al\u202ece')).toEqual({
      description: 'U+202E RIGHT-TO-LEFT OVERRIDE',
      position: 3,
    });
    expect(findUnsafeCharacter('👍\u200b')).toEqual({
      description: 'U+200B ZERO WIDTH SPACE',
      position: 2,
    });
    expect(findUnsafeCharacter('alice')).toBeNull();
    expect(describeCharacter('\u001b')).toBe('U+001B ESCAPE');
    expect(describeCharacter('\u0001')).toBe('U+0001 (a control character)');
    expect(describeCharacter('\ud800')).toBe('U+D800 (a lone surrogate)');
    expect(describeCharacter('\u{e0041}')).toBe('U+E0041 (an invisible format character)');
  });
});

describe('toJson (--json output)', () => {
  it('escapes DEL, C1, bidi, zero-width characters and U+2028/U+2029 that JSON.stringify leaves raw', () => {
    const value = { reason: 'a\u007f\u0085\u202e\u200b\u2028\u2029\u{e0041}\n\u001b' };
    const text = toJson(value);
    expect(text).toBe(
      '{"reason":"a\\u007f\\u0085\\u202e\\u200b\\u2028\\u2029\\udb40\\udc41\\n\\u001b"}',
    );
    expect(JSON.parse(text)).toEqual(value);
  });

  it('property: any JSON value survives, indented or not, and its text holds no such character', () => {
    const hostileJson = fc
      .jsonValue({ maxDepth: 3 })
      .chain((shape) =>
        fc
          .array(hostile, { minLength: 1, maxLength: 4 })
          .map((texts) => ({ shape, texts, [texts[0] ?? 'key']: texts })),
      );
    fc.assert(
      fc.property(hostileJson, fc.constantFrom(undefined, 2), (value, indent) => {
        const plain = JSON.parse(JSON.stringify(value)) as unknown;
        const text = toJson(value, indent);
        expect(JSON.parse(text)).toEqual(plain);
        // Outside strings the only control characters are the layout's own line breaks.
        expect(hasForbidden(text.replaceAll('\n', ''))).toBe(false);
        expect(escapeJsonForDisplay(text)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});

describe('clip and clipBytes: bounded text, whole characters, a visible cut', () => {
  it('keeps short text and cuts long text to the bound, ending in …', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.integer({ min: 3, max: 200 }),
        (text, max) => {
          const chars = clip(text, max);
          const bytes = clipBytes(text, max);
          expect(chars.length).toBeLessThanOrEqual(max);
          expect(Buffer.byteLength(bytes)).toBeLessThanOrEqual(max);
          for (const cut of [chars, bytes]) {
            if (cut === text) continue;
            expect(cut.endsWith('…')).toBe(true);
            expect(text.startsWith(cut.slice(0, -1))).toBe(true);
            expect(findLoneSurrogate(cut)).toBeNull();
          }
          if (Buffer.byteLength(text) <= max) expect(bytes).toBe(text);
        },
      ),
    );
  });
});
