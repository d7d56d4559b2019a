/**
 * Goal: a startup check's round trip establishes the lease only when nothing stands against it:
 * a kill this very start fenced and has not obeyed yet refuses it (a renewal of the same start
 * saw the kill first, and passing let the gate open until the kill landed), as do an epoch risen
 * unseen, a killed scope and a host row not written.
 */
import { describe, expect, it } from 'vitest';
import { isGovernorError } from '../../../services/errors.js';
import { establishRefusal } from '../../../services/fleet/lease-answer.js';
import type { FleetKill, LeaseAnswer } from '../../../services/fleet/lease-protocol.js';

const ANSWER = { scopes: [], hostRowWritten: true } as unknown as LeaseAnswer;
const KILL: FleetKill = { scope: 'firm/desk-a', epoch: 2, changedBy: 'dana', reason: 'rose' };
const NONE = { pending: null, risen: null, killed: null };

describe('establishRefusal', () => {
  it('regression: a kill fenced by a renewal of the same start, not yet obeyed, let the checks pass and the gate open', () => {
    const refusal = establishRefusal(ANSWER, { ...NONE, pending: KILL });
    expect(isGovernorError(refusal, 'GOV_SCOPE_KILLED')).toBe(true);
    expect(refusal?.message).toMatch(/firm\/desk-a \(epoch 2\): rose/);
  });

  it('refuses an unseen rise, a killed scope and an unwritten host row; passes otherwise', () => {
    expect(
      isGovernorError(establishRefusal(ANSWER, { ...NONE, risen: KILL }), 'GOV_SCOPE_KILLED'),
    ).toBe(true);
    const killed = { scope: 'firm', state: 'killed', epoch: 3, changedBy: 'ann', reason: 'x' };
    expect(establishRefusal(ANSWER, { ...NONE, killed: killed as never })?.message).toMatch(
      /fleet scope firm is killed \(epoch 3\) by ann/,
    );
    const unwritten = { ...ANSWER, hostRowWritten: false } as LeaseAnswer;
    expect(isGovernorError(establishRefusal(unwritten, NONE), 'GOV_AUTHORITY_DENIED')).toBe(true);
    expect(establishRefusal(ANSWER, NONE)).toBeNull();
  });
});
