/**
 * What every integrity check reports: a violation naming the check, where, why and what to do;
 * the bounded collector the scans fill; and the cap that lists at most N violations per check
 * plus one that counts the rest.
 */

export type IntegrityCheckName =
  | 'EVENT_LOG'
  | 'SNAPSHOTS'
  | 'CAPITAL'
  | 'STRATEGIES'
  | 'SYSTEM_MODE';

export interface IntegrityViolation {
  readonly check: IntegrityCheckName;
  readonly severity: 'CRITICAL' | 'WARNING';
  readonly description: string;
  readonly location: Readonly<Record<string, string | number>>;
  readonly rootCause: string;
  readonly recommendedAction: string;
}

/** The operator's action for damage to history: the event log and anything anchored to it. */
export const RESTORE =
  'Stop trading (governor already has). Compare with a backup and the externally kept head (`governor verify --full --expect-head HASH`), restore or investigate the tampering, then `governor resume --operator NAME --reason TEXT` (`governor restart --operator NAME --reason TEXT` when it is in SHUTDOWN).';

/** Two violations with the same key are the same finding (reported once per incident). */
export function violationKey(v: IntegrityViolation): string {
  return `${v.check}|${v.description}|${JSON.stringify(v.location)}`;
}

/** Collects findings up to a bound, counting the rest. */
export class Findings<T> {
  readonly items: T[] = [];
  dropped = 0;
  constructor(private readonly max: number) {}
  add(item: T): void {
    if (this.items.length < this.max) this.items.push(item);
    else this.dropped++;
  }
}

/** At most `max` violations of one check, plus one that counts the rest. */
export function capViolations(
  check: IntegrityCheckName,
  found: readonly IntegrityViolation[],
  alreadyDropped: number,
  max: number,
): IntegrityViolation[] {
  const dropped = alreadyDropped + Math.max(0, found.length - max);
  const kept = found.slice(0, max);
  if (dropped === 0) return kept;
  const first = kept[0];
  return [
    ...kept,
    {
      check,
      severity: 'CRITICAL',
      description: `${dropped} further ${check} finding(s) not listed`,
      location: { more: dropped },
      rootCause: first?.rootCause ?? 'see the findings above',
      recommendedAction: first?.recommendedAction ?? RESTORE,
    },
  ];
}

/** `earlier` followed by the violations of `later` that `earlier` does not already hold. */
export function withoutRepeats(
  earlier: readonly IntegrityViolation[],
  later: readonly IntegrityViolation[],
): IntegrityViolation[] {
  if (earlier.length === 0) return [...later];
  const seen = new Set(earlier.map(violationKey));
  return [...earlier, ...later.filter((v) => !seen.has(violationKey(v)))];
}
