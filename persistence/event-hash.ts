/**
 * The event log's hash encoding (public: docs/schema.md, "Hash chain"): SHA-256 in lower-case hex
 * over a JSON array of the row's columns and the previous hash, the genesis hash before the
 * first event, and the JSON fragments the append path reuses so that a batch encodes each part
 * once. node:crypto is loaded at the first hash, not at import.
 */
import { createRequire } from 'node:module';

/** `prev_hash` of the first event: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** The columns the hash covers, with metadata as its stored JSON text. */
export interface HashedEventFields {
  readonly seq: number;
  readonly eventId: string;
  readonly timestamp: string;
  readonly eventType: string;
  readonly reason: string;
  readonly metadataText: string;
  readonly prevHash: string;
}

type Sha256Hex = (text: string) => string;

const requireBuiltin = createRequire(import.meta.url);

/** The hash function, built on node:crypto when first needed. */
function loadSha256Hex(): Sha256Hex {
  const crypto = requireBuiltin('node:crypto') as typeof import('node:crypto');
  // crypto.hash (Node ≥ 20.12) hashes in one call without building a Hash object.
  const oneShotHash = (
    crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }
  ).hash;
  return oneShotHash === undefined
    ? (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex')
    : (text) => oneShotHash('sha256', text, 'hex');
}

let sha256HexLoaded: Sha256Hex | null = null;

/**
 * SHA-256 in lower-case hex. node:crypto (some 20 modules of Node's own, the largest part of a
 * read's start-up) is loaded at the first hash, not at import: `governor status` never hashes.
 */
export function sha256Hex(text: string): string {
  sha256HexLoaded ??= loadSha256Hex();
  return sha256HexLoaded(text);
}

/**
 * SHA-256 (lower-case hex) of the UTF-8 bytes of the JSON array
 * `[seq, event_id, timestamp, event_type, reason, metadata, prev_hash]`, written by
 * JSON.stringify (no spaces; metadata is the stored JSON *text*, so it is a JSON string here).
 */
export function computeEventHash(fields: HashedEventFields): string {
  const middleJson = middleFragment(fields.eventType, fields.reason, fields.metadataText);
  return sha256Hex(
    `[${fields.seq},${jsonString(fields.eventId)},${jsonString(fields.timestamp)}${middleJson},${jsonString(fields.prevHash)}]`,
  );
}

/** `,"event_type","reason","metadata"`: the part of the encoding fixed before the insert. */
export function middleFragment(eventType: string, reason: string, metadataText: string): string {
  return `,${jsonString(eventType)},${jsonString(reason)},${JSON.stringify(metadataText)}`;
}

// Characters JSON.stringify escapes in a string (plus lone surrogates, which it writes as \uXXXX).
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON.stringify escapes exactly these.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify(text), skipping the call for the common text that needs no escaping. */
export function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}
