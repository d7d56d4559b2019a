/**
 * The venues an engine registers, checked once at construction: names (unique, shown safely),
 * the methods governor calls, and each venue's own dead man's switch settings. It owns the
 * limits on them (VENUES_MAX, the longest switch timeout) and the frozen copy the venue guard
 * (venue-guard.ts) acts on; nothing here does venue I/O.
 */
import { findLoneSurrogate, findUnsafeCharacter } from '../display-text.js';
import { GovernorError } from '../errors.js';
import type { Venue } from '../venues/venue.js';

/** At most this many venues may be registered with one governor. */
export const VENUES_MAX = 64;

/** The longest dead man's switch timeout a venue may give for itself. */
const SWITCH_TIMEOUT_MS_MAX = 24 * 60 * 60 * 1000;

/** A venue's countdown as governor arms and renews it. */
export interface SwitchSettings {
  readonly timeoutMs: number;
  readonly renewEveryMs: number;
}

/**
 * A registered venue with its dead man's switch settings read once: its own, or undefined for
 * governor's thresholds; false when the venue has no switch or asked for none.
 */
export interface CheckedVenue {
  readonly venue: Venue;
  readonly deadMansSwitch: SwitchSettings | false | undefined;
  /** `venue.inProcess`, read once: its orders live in the owner's process. */
  readonly inProcess: boolean;
}

/**
 * Checks and copies the engine's venues (GOV_INVALID_CONFIG naming the bad one). The copy is
 * frozen: a list the engine changes later does not change what governor cancels.
 */
export function checkVenues(venues: unknown): readonly CheckedVenue[] {
  if (venues === undefined) return Object.freeze([]);
  if (!Array.isArray(venues) || venues.length > VENUES_MAX) {
    throw new GovernorError(
      'GOV_INVALID_CONFIG',
      `venues: expected a list of at most ${VENUES_MAX} venues`,
      { key: 'venues' },
    );
  }
  const names = new Set<string>();
  const checked = venues.map((venue: unknown, index): CheckedVenue => {
    const key = `venues[${index}]`;
    if (typeof venue !== 'object' || venue === null) {
      throw new GovernorError('GOV_INVALID_CONFIG', `${key}: expected a venue object`, { key });
    }
    const candidate = venue as Partial<Record<keyof Venue, unknown>>;
    const name = candidate.name;
    if (
      typeof name !== 'string' ||
      name.trim() === '' ||
      name.length > 64 ||
      name !== name.trim()
    ) {
      throw new GovernorError(
        'GOV_INVALID_CONFIG',
        `${key}.name: expected a non-empty name of at most 64 characters, without surrounding spaces`,
        { key },
      );
    }
    if (findUnsafeCharacter(name) !== null || findLoneSurrogate(name) !== null) {
      throw new GovernorError(
        'GOV_INVALID_CONFIG',
        `${key}.name: a control, format or line-separator character, or a lone surrogate: a venue's name is shown in alerts, status and events`,
        { key },
      );
    }
    if (names.has(name)) {
      throw new GovernorError('GOV_INVALID_CONFIG', `${key}.name: two venues are named ${name}`, {
        key,
      });
    }
    names.add(name);
    for (const method of ['cancelAllOrders', 'countOpenOrders'] as const) {
      if (typeof candidate[method] !== 'function') {
        throw new GovernorError('GOV_INVALID_CONFIG', `${key}.${method}: expected a function`, {
          key,
        });
      }
    }
    const arm = candidate.armDeadMansSwitch;
    const disarm = candidate.disarmDeadMansSwitch;
    if (
      (arm !== undefined && typeof arm !== 'function') ||
      (disarm !== undefined && typeof disarm !== 'function')
    ) {
      throw new GovernorError(
        'GOV_INVALID_CONFIG',
        `${key}: armDeadMansSwitch and disarmDeadMansSwitch must be functions when given`,
        { key },
      );
    }
    const deadMansSwitch = checkSwitchSettings(
      name,
      key,
      candidate.deadMansSwitch,
      typeof arm === 'function',
    );
    const inProcess = candidate.inProcess;
    if (inProcess !== undefined && typeof inProcess !== 'boolean') {
      throw new GovernorError('GOV_INVALID_CONFIG', `${key}.inProcess: expected true or false`, {
        key: `${key}.inProcess`,
        venue: name,
      });
    }
    return Object.freeze({ venue: venue as Venue, deadMansSwitch, inProcess: inProcess === true });
  });
  return Object.freeze(checked);
}

/** A venue's own switch settings, checked and copied (read once: a getter is not read again). */
function checkSwitchSettings(
  name: string,
  key: string,
  settings: unknown,
  canArm: boolean,
): SwitchSettings | false | undefined {
  if (settings === undefined) return canArm ? undefined : false;
  if (settings === false) return false;
  const refuse = (why: string): never => {
    throw new GovernorError('GOV_INVALID_CONFIG', `${key}.deadMansSwitch (venue ${name}): ${why}`, {
      key: `${key}.deadMansSwitch`,
      venue: name,
    });
  };
  if (typeof settings !== 'object' || settings === null) {
    return refuse('expected { timeoutMs, renewEveryMs } or false');
  }
  const { timeoutMs, renewEveryMs } = settings as Record<string, unknown>;
  for (const [field, value] of [
    ['timeoutMs', timeoutMs],
    ['renewEveryMs', renewEveryMs],
  ] as const) {
    if (
      typeof value !== 'number' ||
      !Number.isSafeInteger(value) ||
      value <= 0 ||
      value > SWITCH_TIMEOUT_MS_MAX
    ) {
      refuse(`${field}: expected a positive whole number of ms, at most ${SWITCH_TIMEOUT_MS_MAX}`);
    }
  }
  const checked = { timeoutMs: timeoutMs as number, renewEveryMs: renewEveryMs as number };
  if (checked.renewEveryMs >= checked.timeoutMs) {
    refuse(
      `renewEveryMs (${checked.renewEveryMs}) must be shorter than timeoutMs (${checked.timeoutMs}), or the switch fires between renewals`,
    );
  }
  if (!canArm) refuse('settings given, but the venue has no armDeadMansSwitch');
  return Object.freeze(checked);
}
