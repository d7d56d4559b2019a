/**
 * What each exchange's own dead man's switch can honour (the range and granularity of its
 * countdown, whether a zero timeout disarms it) and how its cancel-all behaves, so that the ccxt
 * adapter refuses at construction a configuration the venue would silently not keep.
 */
import { GovernorError } from '../errors.js';

/** A countdown at the venue that cancels every order unless renewed in time. */
export interface DeadMansSwitchSettings {
  /** How long the venue waits for a renewal before it cancels everything. */
  readonly timeoutMs: number;
  /** How often governor renews it; always shorter than `timeoutMs`. */
  readonly renewEveryMs: number;
}

export interface DeadMansSwitchLimits {
  readonly timeoutMsMin: number;
  readonly timeoutMsMax: number;
  /** The countdown's granularity: a timeout must be a whole multiple of it. */
  readonly timeoutStepMs: number;
  /** The venue's recommended settings, the adapter's default. */
  readonly recommended: DeadMansSwitchSettings;
  /** Whether ccxt's `cancelAllOrdersAfter(0)` stops the countdown at this venue. */
  readonly zeroDisarms: boolean;
  /** Shown in the error and the docs: where the limits come from, and anything else to know. */
  readonly note: string;
}

export interface VenueRules {
  /** ccxt's exchange id. */
  readonly exchangeId: string;
  /** The countdown's limits, or why this venue has no timer governor can renew. */
  readonly deadMansSwitch: DeadMansSwitchLimits | { readonly unsupported: string };
  /**
   * Whether the venue's cancel-all ignores a symbol (it cancels the whole account's orders): the
   * adapter then cancels a configured symbol's orders one by one.
   */
  readonly cancelAllIgnoresSymbol: boolean;
}

/** The renewal is never more frequent than this at any venue: each one is a signed request. */
export const RENEW_EVERY_MS_MIN = 1_000;

/** The exchanges whose rules the adapter knows; any other gets no dead man's switch. */
export const VENUE_RULES: Readonly<Record<string, VenueRules>> = {
  kraken: {
    exchangeId: 'kraken',
    cancelAllIgnoresSymbol: true,
    deadMansSwitch: {
      timeoutMsMin: 1_000,
      timeoutMsMax: 86_400_000,
      timeoutStepMs: 1_000,
      recommended: { timeoutMs: 60_000, renewEveryMs: 20_000 },
      zeroDisarms: true,
      note: 'Kraken CancelAllOrdersAfter: whole seconds up to 86400 s; Kraken recommends a 60 s timeout renewed every 15 to 30 s; once it fires it stays off until armed again',
    },
  },
  okx: {
    exchangeId: 'okx',
    cancelAllIgnoresSymbol: false,
    deadMansSwitch: {
      timeoutMsMin: 10_000,
      timeoutMsMax: 120_000,
      timeoutStepMs: 1_000,
      recommended: { timeoutMs: 60_000, renewEveryMs: 20_000 },
      zeroDisarms: true,
      note: 'OKX cancel-all-after: whole seconds from 10 s to 120 s, 0 disarms',
    },
  },
  hyperliquid: {
    exchangeId: 'hyperliquid',
    cancelAllIgnoresSymbol: false,
    deadMansSwitch: {
      timeoutMsMin: 5_000,
      timeoutMsMax: 86_400_000,
      timeoutStepMs: 1,
      recommended: { timeoutMs: 60_000, renewEveryMs: 20_000 },
      zeroDisarms: false,
      note: 'Hyperliquid scheduleCancel: at least 5 s ahead, and it may fire at most 10 times a day (UTC), after which it is refused until midnight; ccxt cannot clear it (a zero timeout schedules a cancel now), so a planned stop leaves it to run out',
    },
  },
  bybit: {
    exchangeId: 'bybit',
    cancelAllIgnoresSymbol: false,
    deadMansSwitch: {
      unsupported:
        "Bybit's disconnected-cancel-all cancels when a websocket session drops, not on a timer a REST renewal pushes back: governor cannot renew it",
    },
  },
};

/** The rules for a ccxt exchange id, or undefined when the adapter does not know the venue. */
export function venueRules(exchangeId: string): VenueRules | undefined {
  return Object.hasOwn(VENUE_RULES, exchangeId) ? VENUE_RULES[exchangeId] : undefined;
}

/**
 * The dead man's switch settings to use at this venue, or false for none: the venue's
 * recommended settings when none are given, and a GOV_INVALID_CONFIG error for settings the
 * venue cannot honour (or for any, at a venue without a renewable countdown).
 */
export function resolveDeadMansSwitch(
  venueName: string,
  exchange: { readonly id: string; readonly has: Readonly<Record<string, unknown>> },
  requested: DeadMansSwitchSettings | false | undefined,
): DeadMansSwitchSettings | false {
  if (requested === false) return false;
  const rules = venueRules(exchange.id);
  const limits = rules?.deadMansSwitch;
  const refuse = (why: string): never => {
    throw new GovernorError('GOV_INVALID_CONFIG', `venue ${venueName}: deadMansSwitch: ${why}`, {
      key: 'deadMansSwitch',
      venue: venueName,
      exchange: exchange.id,
    });
  };
  if (limits === undefined || exchange.has.cancelAllOrdersAfter !== true) {
    if (requested === undefined) return false;
    return refuse(
      exchange.has.cancelAllOrdersAfter === true
        ? `the adapter does not know the limits of ${exchange.id}'s cancelAllOrdersAfter (known: ${knownVenues()}); pass deadMansSwitch: false`
        : `${exchange.id} has no cancelAllOrdersAfter in ccxt; pass deadMansSwitch: false`,
    );
  }
  if ('unsupported' in limits) {
    if (requested === undefined) return false;
    return refuse(`${limits.unsupported}; pass deadMansSwitch: false`);
  }
  const settings = requested ?? limits.recommended;
  checkTimeout(settings.timeoutMs, limits, refuse);
  const { renewEveryMs, timeoutMs } = settings;
  if (!Number.isSafeInteger(renewEveryMs) || renewEveryMs < RENEW_EVERY_MS_MIN) {
    refuse(
      `renewEveryMs must be an integer of at least ${RENEW_EVERY_MS_MIN} ms (got ${renewEveryMs})`,
    );
  }
  if (renewEveryMs >= timeoutMs) {
    refuse(
      `renewEveryMs (${renewEveryMs}) must be shorter than timeoutMs (${timeoutMs}), or the countdown runs out between renewals`,
    );
  }
  return { timeoutMs, renewEveryMs };
}

/** Refuses (through `refuse`) a countdown the venue cannot keep. */
export function checkTimeout(
  timeoutMs: number,
  limits: DeadMansSwitchLimits,
  refuse: (why: string) => never,
): void {
  if (!Number.isSafeInteger(timeoutMs)) refuse(`timeoutMs must be an integer (got ${timeoutMs})`);
  if (timeoutMs < limits.timeoutMsMin || timeoutMs > limits.timeoutMsMax) {
    refuse(
      `timeoutMs must be within ${limits.timeoutMsMin}..${limits.timeoutMsMax} (got ${timeoutMs}): ${limits.note}`,
    );
  }
  if (timeoutMs % limits.timeoutStepMs !== 0) {
    refuse(
      `timeoutMs must be a whole multiple of ${limits.timeoutStepMs} ms (got ${timeoutMs}): ccxt would round it down`,
    );
  }
}

function knownVenues(): string {
  return Object.keys(VENUE_RULES).join(', ');
}
