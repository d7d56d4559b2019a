/** Integer options of the verifier and the scrub: checked up front, named when out of range. */
import { GovernorError } from '../../services/errors.js';

/** An integer option within [min, max], or its default; GOV_INVALID_ARGUMENT names it otherwise. */
export function integerOption(
  field: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const checked = value ?? fallback;
  if (!Number.isSafeInteger(checked) || checked < min || checked > max) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      `${field}: expected an integer from ${min} to ${max}`,
      { field },
    );
  }
  return checked;
}
