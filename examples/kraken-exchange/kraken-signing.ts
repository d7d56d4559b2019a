/**
 * Kraken's request signature for private REST calls, as the exchange computes it to check a
 * request: API-Sign = base64(HMAC-SHA512(base64-decoded secret, URI path + SHA-256(nonce + body))).
 * Also makes fresh key pairs for the local exchange.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface ApiKeyPair {
  readonly apiKey: string;
  /** Base64, as Kraken hands it out. */
  readonly secret: string;
}

export function newApiKeyPair(): ApiKeyPair {
  return {
    apiKey: randomBytes(42).toString('base64'),
    secret: randomBytes(64).toString('base64'),
  };
}

/** The API-Sign header Kraken expects for this path, nonce and raw body. */
export function krakenSignature(secret: string, path: string, nonce: string, body: string): string {
  const digest = createHash('sha256')
    .update(nonce + body)
    .digest();
  return createHmac('sha512', Buffer.from(secret, 'base64'))
    .update(Buffer.concat([Buffer.from(path, 'utf8'), digest]))
    .digest('base64');
}

/** Whether `given` is the signature of this request (constant time in the signature's length). */
export function signatureMatches(
  secret: string,
  path: string,
  nonce: string,
  body: string,
  given: string,
): boolean {
  const expected = Buffer.from(krakenSignature(secret, path, nonce, body), 'utf8');
  const actual = Buffer.from(given, 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
