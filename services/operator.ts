/**
 * Operator identity and reasons: every operator action names who and why, checked up front.
 * A name is shown wherever the action is (terminal, status page, alerts), so it may not hold
 * control, zero-width or bidi characters; a reason is kept verbatim and escaped when shown.
 */

import { readFields } from '../persistence/plain-copy.js';
import { findLoneSurrogate, findUnsafeCharacter } from './display-text.js';
import { GovernorError } from './errors.js';

export interface OperatorRequest {
  readonly operator: string;
  readonly reason: string;
}

export const OPERATOR_NAME_LENGTH_MAX = 200;
export const OPERATOR_REASON_LENGTH_MAX = 4_096;

/**
 * The operator name of `action`, trimmed, or GOV_OPERATOR_REQUIRED before anything is written:
 * for a blank or too long name, or for one holding a control, format (zero-width, bidi) or
 * line-separator character or a lone surrogate anywhere, even where trimming would drop it.
 * The position in the message counts characters of the name as given, from 1.
 */
export function checkOperatorName(given: unknown, action: string): string {
  const operator = typeof given === 'string' ? given.trim() : '';
  if (operator === '' || operator.length > OPERATOR_NAME_LENGTH_MAX) {
    throw new GovernorError(
      'GOV_OPERATOR_REQUIRED',
      `${action} needs a non-empty operator name of at most ${OPERATOR_NAME_LENGTH_MAX} characters`,
    );
  }
  const unsafe = findUnsafeCharacter(given as string);
  if (unsafe !== null) {
    throw new GovernorError(
      'GOV_OPERATOR_REQUIRED',
      `${action}: operator contains ${unsafe.description} at position ${unsafe.position}; a name may not hold control, zero-width or bidi characters`,
      { field: 'operator', character: unsafe.description, position: unsafe.position },
    );
  }
  return operator;
}

/**
 * Returns the request with surrounding whitespace trimmed, or throws before anything is
 * written: GOV_OPERATOR_REQUIRED for a name `checkOperatorName` refuses; GOV_REASON_REQUIRED
 * for a blank or too long reason; GOV_INVALID_TEXT for a reason holding a lone surrogate (it
 * cannot be stored verbatim). Any other character of a reason is kept.
 */
export function checkOperatorRequest(request: unknown, action: string): OperatorRequest {
  // Each field read once (persistence/plain-copy.ts): what is checked is what is returned.
  const candidate =
    typeof request === 'object' && request !== null
      ? readFields('request', request, ['operator', 'reason'])
      : {};
  const operator = checkOperatorName(candidate.operator, action);
  const givenReason = typeof candidate.reason === 'string' ? candidate.reason : '';
  const reason = givenReason.trim();
  if (reason === '' || reason.length > OPERATOR_REASON_LENGTH_MAX) {
    throw new GovernorError(
      'GOV_REASON_REQUIRED',
      `${action} needs a non-empty reason of at most ${OPERATOR_REASON_LENGTH_MAX} characters`,
    );
  }
  const surrogate = findLoneSurrogate(givenReason);
  if (surrogate !== null) {
    throw new GovernorError(
      'GOV_INVALID_TEXT',
      `${action}: reason contains ${surrogate.description} at position ${surrogate.position}; a reason must be well-formed Unicode`,
      { field: 'reason', character: surrogate.description, position: surrogate.position },
    );
  }
  return { operator, reason };
}
