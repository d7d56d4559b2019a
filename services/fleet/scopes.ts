/**
 * Fleet scopes: paths such as `firm/desk-a/strategy-x`. A kill of a scope applies to every scope
 * under it, so a host obeys its own scopes and every ancestor of them.
 */
import { GovernorError } from '../errors.js';

const SCOPE = /^[A-Za-z0-9][A-Za-z0-9._:-]*(\/[A-Za-z0-9][A-Za-z0-9._:-]*)*$/;
const HOST = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
export const SCOPE_BYTES_MAX = 200;
export const SCOPES_PER_HOST_MAX = 64;
/** The lease (ms): default and allowed range; renewed at least every leaseMs / 3. */
export const LEASE_MS_DEFAULT = 3_000;
export const LEASE_MS_RANGE = [150, 600_000] as const;
/** Lost this long: OBSERVE_ONLY (AUTHORITY_LOST); at least the lease. */
export const AUTHORITY_LOSS_MS_DEFAULT = 120_000;

export function checkScope(value: unknown, what = 'scope'): string {
  if (
    typeof value !== 'string' ||
    !SCOPE.test(value) ||
    Buffer.byteLength(value) > SCOPE_BYTES_MAX
  ) {
    throw new GovernorError(
      'GOV_INVALID_SCOPE',
      `${what}: expected names of letters, digits, '.', '-', '_' or ':' joined by '/' (at most ${SCOPE_BYTES_MAX} bytes), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function checkHostName(value: unknown): string {
  if (
    typeof value !== 'string' ||
    !HOST.test(value) ||
    Buffer.byteLength(value) > SCOPE_BYTES_MAX
  ) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      `host: expected a name of letters, digits, '.', '-', '_' or ':', got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** `firm/desk-a/x` → `firm`, `firm/desk-a`, `firm/desk-a/x`. */
export function scopeAndAncestors(scope: string): string[] {
  const parts = scope.split('/');
  return parts.map((_, index) => parts.slice(0, index + 1).join('/'));
}

/** Every scope a host with these scopes obeys (its own and their ancestors), sorted, unique. */
export function obeyedScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.flatMap(scopeAndAncestors))].sort();
}

/** True when a kill of `killed` applies to a host in `hostScope` (the same scope or a wider one). */
export function covers(killed: string, hostScope: string): boolean {
  return hostScope === killed || hostScope.startsWith(`${killed}/`);
}
