/**
 * `trading-governor/ccxt`: the adapter that makes a venue of a ccxt exchange client, kept out of
 * the main entry point so that an engine without ccxt (an optional peer dependency) never loads
 * it. The adapter itself imports nothing from ccxt at run time: the engine passes its client in.
 */
export {
  type CcxtExchange,
  type CcxtOrder,
  type CcxtVenue,
  type CcxtVenueOptions,
  ccxtVenue,
  ORDERS_PER_PASS_MAX,
  PENDING_CALLS_MAX,
} from './services/venues/ccxt-venue.js';
export type { Venue } from './services/venues/venue.js';
export {
  type DeadMansSwitchLimits,
  type DeadMansSwitchSettings,
  RENEW_EVERY_MS_MIN,
  VENUE_RULES,
  type VenueRules,
  venueRules,
} from './services/venues/venue-limits.js';
