/**
 * Operator identity and reasons: every operator action names who and why, checked up front.
 */
import { GovernorError } from './errors.js';

export interface OperatorRequest {
  readonly operator: string;
  readonly reason: string;
}

export const OPERATOR_NAME_LENGTH_MAX = 200;
export const OPERATOR_REASON_LENGTH_MAX = 4_096;

/** Returns the trimmed request, or throws GOV_OPERATOR_REQUIRED / GOV_REASON_REQUIRED. */
export function checkOperatorRequest(request: unknown, action: string): OperatorRequest {
  const candidate = (typeof request === 'object' && request !== null ? request : {}) as Record<
    string,
    unknown
  >;
  const operator = typeof candidate.operator === 'string' ? candidate.operator.trim() : '';
  const reason = typeof candidate.reason === 'string' ? candidate.reason.trim() : '';
  if (operator === '' || operator.length > OPERATOR_NAME_LENGTH_MAX) {
    throw new GovernorError(
      'GOV_OPERATOR_REQUIRED',
      `${action} needs a non-empty operator name of at most ${OPERATOR_NAME_LENGTH_MAX} characters`,
    );
  }
  if (reason === '' || reason.length > OPERATOR_REASON_LENGTH_MAX) {
    throw new GovernorError(
      'GOV_REASON_REQUIRED',
      `${action} needs a non-empty reason of at most ${OPERATOR_REASON_LENGTH_MAX} characters`,
    );
  }
  return { operator, reason };
}
