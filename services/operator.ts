/**
 * Operator identity and reasons: every operator action names who and why, checked up front.
 * A name is shown wherever the action is (terminal, status page, alerts), so it may not hold
 * control, zero-width or bidi characters; a reason is kept verbatim and escaped when shown.
 */

import { readFields } from '../persistence/plain-copy.js';
import { checkOperator, checkReason } from '../persistence/validation.js';

export interface OperatorRequest {
  readonly operator: string;
  readonly reason: string;
}

/**
 * Returns the request with surrounding whitespace trimmed, or throws before anything is
 * written: GOV_OPERATOR_REQUIRED for a name `checkOperator` refuses (the one rule,
 * persistence/validation.ts: at most OPERATOR_NAME_BYTES_MAX UTF-8 bytes, no control,
 * zero-width or bidi character); GOV_REASON_REQUIRED
 * for a blank or too long reason (at most OPERATOR_REASON_BYTES_MAX UTF-8 bytes);
 * GOV_INVALID_TEXT for a reason holding a lone surrogate. Any other character of a reason is kept.
 */
export function checkOperatorRequest(request: unknown, action: string): OperatorRequest {
  // Each field read once (persistence/plain-copy.ts): what is checked is what is returned.
  const candidate =
    typeof request === 'object' && request !== null
      ? readFields('request', request, ['operator', 'reason'])
      : {};
  const operator = checkOperator(candidate.operator, action);
  const reason = checkReason(candidate.reason, action);
  return { operator, reason };
}
