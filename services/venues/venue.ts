/**
 * A trading venue as governor sees it: the one account of the engine's at one exchange, which
 * governor cancels everything at when it shuts down and whose dead man's switch it renews while
 * the gate may open. The engine registers its venues with `new GovernanceSystem({ venues })`.
 */
export interface Venue {
  /** Unique among the venues of one governor; shown in alerts, status and events. */
  readonly name: string;
  /**
   * Cancel every working order of this account at this venue. An adapter that learns how many
   * it cancelled may resolve to that count (governor reports it); resolving to nothing is as good.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: an adapter declared `Promise<void>` must still fit.
  cancelAllOrders(): Promise<number | void>;
  /** How many orders of this account are open at the venue now: the confirmation of flat. */
  countOpenOrders(): Promise<number>;
  /**
   * This venue's own dead man's switch settings, read once when governor registers the venue:
   * armed with `timeoutMs` and renewed every `renewEveryMs` (shorter than `timeoutMs`); false:
   * never armed. Left out: governor's thresholds deadMansSwitchTimeoutMs and
   * deadMansSwitchRenewEveryMs.
   */
  readonly deadMansSwitch?: { readonly timeoutMs: number; readonly renewEveryMs: number } | false;
  /** Arm (or renew) the venue's own countdown: it cancels all orders unless renewed within `timeoutMs`. */
  armDeadMansSwitch?(timeoutMs: number): Promise<void>;
  /** Stop the venue's countdown (a planned stop). */
  disarmDeadMansSwitch?(): Promise<void>;
  /**
   * True when this venue's orders live in the process that registered it (a paper exchange, a
   * simulator): they end with that process. governor cancels there on SHUTDOWN as at any venue
   * while its owner runs; with no owner running (`governor shutdown`, `governor status`) the venue
   * is flat, as nothing can rest there. Read once, recorded with the venue. Left out: false.
   */
  readonly inProcess?: boolean;
}
