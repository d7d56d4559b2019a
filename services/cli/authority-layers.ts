/**
 * The configuration's fleet authority (docs/fleet.md): the config file's `authority` section and
 * the flags that set it (--authority, --scope, --fleet-host, --lease-ms, --authority-loss-ms),
 * each key checked on its own, then merged with GOVERNOR_AUTHORITY into the GovernanceSystem's
 * `authority` option, or none when no scope is named.
 */
import {
  AUTHORITY_LOSS_MS_DEFAULT,
  checkHostName,
  checkScope,
  LEASE_MS_DEFAULT,
  LEASE_MS_RANGE,
  SCOPES_PER_HOST_MAX,
} from '../fleet/scopes.js';
import { checkString, integerText, invalid, isRecord } from './config-values.js';

/** The fleet authority (docs/fleet.md): the `authority` option of the GovernanceSystem. */
export interface AuthorityConfig {
  /** postgresql://... ; null: the standard PG* variables. */
  readonly url: string | null;
  /** This host's name in the fleet; null: the machine's hostname. */
  readonly host: string | null;
  readonly scopes: readonly string[];
  readonly leaseMs: number;
  readonly authorityLossMs: number;
}

/** The flags that set the authority (`run`, `config check`; undefined means "not given"). */
export interface AuthorityFlags {
  readonly authority?: string | undefined;
  readonly scope?: readonly string[] | undefined;
  readonly fleetHost?: string | undefined;
  readonly leaseMs?: string | undefined;
  readonly authorityLossMs?: string | undefined;
}

/** The keys of the config file's `authority` section (the GovernanceSystem's `authority` option). */
export const AUTHORITY_KEYS: readonly string[] = [
  'url',
  'host',
  'scopes',
  'leaseMs',
  'authorityLossMs',
];

/** One layer's authority settings, each checked on its own (their relation once merged). */
export type AuthorityLayer = Partial<{
  -readonly [K in keyof AuthorityConfig]: AuthorityConfig[K];
}>;

/** A connection URL for the fleet authority: postgres:// or postgresql://, parsed. */
function checkAuthorityUrl(key: string, value: unknown): string {
  const text = checkString(key, value);
  let protocol = '';
  try {
    protocol = new URL(text).protocol;
  } catch {
    // not a URL
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    invalid(
      key,
      'expected a postgresql://USER@HOST:PORT/DATABASE URL (leave it out for the PG* variables)',
    );
  }
  return text;
}

/** A check's message without the key it named (the caller names the key where it came from). */
function messageAfterKey(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^(GOV_[A-Z_]+: )?[^:]*: /, '');
}

function checkAuthorityScopes(key: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > SCOPES_PER_HOST_MAX) {
    invalid(key, `expected a list of 1 to ${SCOPES_PER_HOST_MAX} scopes, e.g. [firm/desk-a]`);
  }
  return value.map((scope, index): string => {
    try {
      return checkScope(scope, `${key}[${index}]`);
    } catch (error) {
      return invalid(`${key}[${index}]`, messageAfterKey(error));
    }
  });
}

function checkAuthorityHost(key: string, value: unknown): string {
  try {
    return checkHostName(value);
  } catch (error) {
    return invalid(key, messageAfterKey(error));
  }
}

function checkLeaseMs(key: string, value: unknown): number {
  const [min, max] = LEASE_MS_RANGE;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    invalid(key, `expected an integer of ms from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function checkLossMs(key: string, value: unknown): number {
  const max = 86_400_000;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    invalid(key, `expected an integer of ms from 1 to ${max}, got ${String(value)}`);
  }
  return value;
}

export function authorityFileLayer(key: string, value: unknown): AuthorityLayer {
  if (!isRecord(value)) invalid(key, `expected a mapping of ${AUTHORITY_KEYS.join(', ')}`);
  for (const name of Object.keys(value)) {
    if (!AUTHORITY_KEYS.includes(name))
      invalid(`${key}.${name}`, `unknown key; known: ${AUTHORITY_KEYS.join(', ')}`);
  }
  const layer: AuthorityLayer = {};
  if (value.url !== undefined && value.url !== null)
    layer.url = checkAuthorityUrl(`${key}.url`, value.url);
  if (value.host !== undefined && value.host !== null)
    layer.host = checkAuthorityHost(`${key}.host`, value.host);
  if (value.scopes !== undefined)
    layer.scopes = checkAuthorityScopes(`${key}.scopes`, value.scopes);
  if (value.leaseMs !== undefined) layer.leaseMs = checkLeaseMs(`${key}.leaseMs`, value.leaseMs);
  if (value.authorityLossMs !== undefined)
    layer.authorityLossMs = checkLossMs(`${key}.authorityLossMs`, value.authorityLossMs);
  return layer;
}

/** The flag that sets each key of the `authority` section. */
const AUTHORITY_FLAG_OF: Readonly<Record<keyof AuthorityConfig, string>> = {
  url: '--authority',
  host: '--fleet-host',
  scopes: '--scope',
  leaseMs: '--lease-ms',
  authorityLossMs: '--authority-loss-ms',
};

export function authorityFlagLayer(flags: AuthorityFlags): AuthorityLayer {
  const layer: AuthorityLayer = {};
  // An empty --authority '' means the PG* variables (the file's url does not apply either).
  if (flags.authority !== undefined)
    layer.url = flags.authority === '' ? null : checkAuthorityUrl('--authority', flags.authority);
  if (flags.scope !== undefined && flags.scope.length > 0)
    layer.scopes = checkAuthorityScopes('--scope', flags.scope);
  if (flags.fleetHost !== undefined)
    layer.host = checkAuthorityHost('--fleet-host', flags.fleetHost);
  if (flags.leaseMs !== undefined)
    layer.leaseMs = checkLeaseMs('--lease-ms', integerText('--lease-ms', flags.leaseMs));
  if (flags.authorityLossMs !== undefined) {
    layer.authorityLossMs = checkLossMs(
      '--authority-loss-ms',
      integerText('--authority-loss-ms', flags.authorityLossMs),
    );
  }
  return layer;
}

/**
 * The merged authority: on when the file's `authority.scopes` or --scope names its scopes; flags
 * over the file key by key, and for the url: --authority, else GOVERNOR_AUTHORITY, else the
 * file's. Settings without scopes are refused, naming the key, rather than ignored;
 * GOVERNOR_AUTHORITY alone (the operator commands' default) turns nothing on.
 */
export function resolveAuthority(
  file: AuthorityLayer,
  flags: AuthorityLayer,
  envUrl: string | undefined,
): AuthorityConfig | null {
  const merged: AuthorityLayer = { ...file, ...flags };
  if (merged.scopes === undefined) {
    const given = Object.keys(merged);
    if (given.length === 0) return null;
    const name = given[0] as keyof AuthorityConfig;
    const key = Object.hasOwn(flags, name) ? AUTHORITY_FLAG_OF[name] : `authority.${name}`;
    invalid(
      'authority.scopes',
      `${key} is set but no scope: give authority.scopes in the config file or --scope S`,
    );
  }
  if (!Object.hasOwn(flags, 'url') && envUrl !== undefined) {
    merged.url = checkAuthorityUrl('GOVERNOR_AUTHORITY', envUrl);
  }
  const leaseMs = merged.leaseMs ?? LEASE_MS_DEFAULT;
  const authorityLossMs = merged.authorityLossMs ?? Math.max(AUTHORITY_LOSS_MS_DEFAULT, leaseMs);
  if (authorityLossMs < leaseMs) {
    invalid(
      'authority.authorityLossMs',
      `${authorityLossMs} is shorter than leaseMs (${leaseMs}): expected at least the lease`,
    );
  }
  return {
    url: merged.url ?? null,
    host: merged.host ?? null,
    scopes: merged.scopes,
    leaseMs,
    authorityLossMs,
  };
}
