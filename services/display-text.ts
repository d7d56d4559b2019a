/**
 * Untrusted text made safe to show a person: on one terminal line, on the status page, in a
 * chat message. Control, format (bidi, zero-width) and line-separator characters are shown as
 * visible escapes (`\n`, `\x1b`, `\u202e`) and never reach the terminal; operator names may
 * not hold them at all (`findUnsafeCharacter`).
 */
import { assert } from './errors.js';

/**
 * The characters never shown as themselves: Cc (C0 controls incl. NUL, TAB, LF, CR, ESC; DEL;
 * C1 controls incl. NEL and CSI), Cf (bidi controls, zero-width characters, the soft hyphen,
 * the byte-order mark, tag characters), Zl and Zp (U+2028, U+2029), and lone surrogates.
 */
const UNSAFE_CHARACTER = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const LONE_SURROGATE = /\p{Cs}/u;

/** The escapes C and JavaScript readers know; every other unsafe character is shown by number. */
const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Names of the unsafe characters an operator is likely to meet, for error messages. */
const CHARACTER_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0000, 'NULL'],
  [0x0009, 'CHARACTER TABULATION'],
  [0x000a, 'LINE FEED'],
  [0x000d, 'CARRIAGE RETURN'],
  [0x001b, 'ESCAPE'],
  [0x007f, 'DELETE'],
  [0x0085, 'NEXT LINE'],
  [0x009b, 'CONTROL SEQUENCE INTRODUCER'],
  [0x00ad, 'SOFT HYPHEN'],
  [0x061c, 'ARABIC LETTER MARK'],
  [0x180e, 'MONGOLIAN VOWEL SEPARATOR'],
  [0x200b, 'ZERO WIDTH SPACE'],
  [0x200c, 'ZERO WIDTH NON-JOINER'],
  [0x200d, 'ZERO WIDTH JOINER'],
  [0x200e, 'LEFT-TO-RIGHT MARK'],
  [0x200f, 'RIGHT-TO-LEFT MARK'],
  [0x2028, 'LINE SEPARATOR'],
  [0x2029, 'PARAGRAPH SEPARATOR'],
  [0x202a, 'LEFT-TO-RIGHT EMBEDDING'],
  [0x202b, 'RIGHT-TO-LEFT EMBEDDING'],
  [0x202c, 'POP DIRECTIONAL FORMATTING'],
  [0x202d, 'LEFT-TO-RIGHT OVERRIDE'],
  [0x202e, 'RIGHT-TO-LEFT OVERRIDE'],
  [0x2060, 'WORD JOINER'],
  [0x2066, 'LEFT-TO-RIGHT ISOLATE'],
  [0x2067, 'RIGHT-TO-LEFT ISOLATE'],
  [0x2068, 'FIRST STRONG ISOLATE'],
  [0x2069, 'POP DIRECTIONAL ISOLATE'],
  [0xfeff, 'ZERO WIDTH NO-BREAK SPACE'],
]);

/** `U+202E RIGHT-TO-LEFT OVERRIDE`, or `U+0001 (a control character)` for unnamed ones. */
export function describeCharacter(character: string): string {
  const codePoint = character.codePointAt(0) ?? 0;
  const number = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  const name = CHARACTER_NAMES.get(codePoint);
  if (name !== undefined) return `${number} ${name}`;
  if (LONE_SURROGATE.test(character)) return `${number} (a lone surrogate)`;
  if (/\p{Cc}/u.test(character)) return `${number} (a control character)`;
  if (/\p{Cf}/u.test(character)) return `${number} (an invisible format character)`;
  return number;
}

/**
 * The visible escape of one unsafe character: `\n`, `\r`, `\t`, `\xHH` for the other C0 and
 * C1 controls and DEL (`\x1b`), `\uHHHH` (`\u202e`) or `\u{HHHHH}` (`\u{e0041}`) for the rest.
 */
function escapeCharacter(character: string): string {
  const short = SHORT_ESCAPES[character];
  if (short !== undefined) return short;
  const codePoint = character.codePointAt(0) ?? 0;
  const hex = codePoint.toString(16);
  if (codePoint <= 0x9f) return `\\x${hex.padStart(2, '0')}`;
  if (codePoint <= 0xffff) return `\\u${hex.padStart(4, '0')}`;
  return `\\u{${hex}}`;
}

export interface DisplayTextOptions {
  /**
   * The longest result, in UTF-16 code units (string length); longer text is cut at a whole
   * character or escape and ends with `…`. Default: no limit.
   */
  readonly maxLength?: number;
}

/**
 * `text` as it may be shown on one terminal line: every unsafe character replaced by its
 * visible escape, everything else unchanged (a backslash stays a backslash: the display is for
 * reading, `--json` gives the exact text).
 */
export function displayText(text: string, options: DisplayTextOptions = {}): string {
  const maxLength = options.maxLength ?? Number.POSITIVE_INFINITY;
  assert(
    maxLength === Number.POSITIVE_INFINITY || (Number.isSafeInteger(maxLength) && maxLength >= 1),
    `displayText: maxLength must be a positive integer, got ${maxLength}`,
  );
  if (text.length <= maxLength && !UNSAFE_CHARACTER.test(text)) return text;
  const pieces: string[] = [];
  let length = 0;
  for (const character of text) {
    const piece = UNSAFE_CHARACTER.test(character) ? escapeCharacter(character) : character;
    pieces.push(piece);
    length += piece.length;
  }
  if (length <= maxLength) return pieces.join('');
  let kept = '';
  for (const piece of pieces) {
    if (kept.length + piece.length > maxLength - 1) break;
    kept += piece;
  }
  return `${kept}…`;
}

export interface UnsafeCharacter {
  /** E.g. `U+202E RIGHT-TO-LEFT OVERRIDE`. */
  readonly description: string;
  /** Counted in characters (code points) from 1. */
  readonly position: number;
}

function findCharacter(text: string, pattern: RegExp): UnsafeCharacter | null {
  if (!pattern.test(text)) return null;
  let position = 0;
  for (const character of text) {
    position++;
    if (pattern.test(character)) return { description: describeCharacter(character), position };
  }
  return null;
}

/** The first character `displayText` would escape, or null when `text` has none. */
export function findUnsafeCharacter(text: string): UnsafeCharacter | null {
  return findCharacter(text, UNSAFE_CHARACTER);
}

/** The first lone surrogate (text that is not well-formed Unicode), or null. */
export function findLoneSurrogate(text: string): UnsafeCharacter | null {
  return findCharacter(text, LONE_SURROGATE);
}

/**
 * Every unsafe character JSON.stringify leaves as itself (DEL, C1, Cf, U+2028, U+2029): C0
 * controls are escaped by JSON.stringify, and a line break outside a string is layout.
 */
const UNSAFE_IN_JSON = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/**
 * JSON text (from JSON.stringify) with every unsafe character written as a `\uXXXX` escape:
 * the same value for any JSON parser, and nothing a terminal or a browser would act on.
 */
export function escapeJsonForDisplay(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (character) => {
    let escaped = '';
    for (let index = 0; index < character.length; index++) {
      escaped += `\\u${character.charCodeAt(index).toString(16).padStart(4, '0')}`;
    }
    return escaped;
  });
}

/** `text` cut to at most `max` characters, the last one `…`, never splitting a surrogate pair. */
export function clip(text: string, max: number): string {
  assert(Number.isSafeInteger(max) && max >= 1, 'clip: max is a positive integer');
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/** `text` cut to at most `maxBytes` bytes of UTF-8, the last character `…`, whole characters only. */
export function clipBytes(text: string, maxBytes: number): string {
  assert(Number.isSafeInteger(maxBytes) && maxBytes >= 3, 'clipBytes: maxBytes is at least 3');
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const budget = maxBytes - 3; // the bytes of `…`
  let bytes = 0;
  let end = 0;
  for (const character of text) {
    const size = Buffer.byteLength(character, 'utf8');
    if (bytes + size > budget) break;
    bytes += size;
    end += character.length;
  }
  return `${text.slice(0, end)}…`;
}
