/**
 * Goal: an operator name is shown wherever the action is (terminal, status page, alerts), so
 * it may hold no control, zero-width, bidi or other format character. The governor and the
 * store refuse such a name with GOV_OPERATOR_REQUIRED naming the character and its position,
 * and nothing is written. A reason is kept verbatim (NUL, ESC, newlines, bidi); only a lone
 * surrogate, which SQLite cannot store, is refused (GOV_INVALID_TEXT), again before any write.
 * Properties: each validator accepts exactly the names without such a character.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../persistence/index.js';
import {
  checkOperator,
  checkReason,
  OPERATOR_NAME_BYTES_MAX,
  OPERATOR_REASON_BYTES_MAX,
} from '../../persistence/validation.js';
import { isGovernorError } from '../../services/errors.js';
import { checkOperatorRequest } from '../../services/operator.js';
import { type Harness, makeHarness } from '../support/harness.js';
import {
  hasForbidden,
  hostileText,
  TROUBLEMAKERS,
  wellFormedHostileText,
} from '../support/hostile-text.js';
import { dumpDatabase, expectGovernorError, tempDatabasePath } from './helpers.js';

let h: Harness | undefined;
afterEach(() => {
  h?.cleanup();
  h = undefined;
});

const FORGED_NAMES = [
  ['ali\u202ece', 'U+202E RIGHT-TO-LEFT OVERRIDE at position 4'],
  ['bob\u200b', 'U+200B ZERO WIDTH SPACE at position 4'],
  ['\u2066eve', 'U+2066 LEFT-TO-RIGHT ISOLATE at position 1'],
  ['mal\u001b[32mlory', 'U+001B ESCAPE at position 4'],
  ['nul\u0000', 'U+0000 NULL at position 4'],
  ['two\nlines', 'U+000A LINE FEED at position 4'],
  ['alice\n', 'U+000A LINE FEED at position 6'],
  ['tab\tbed', 'U+0009 CHARACTER TABULATION at position 4'],
  ['del\u007f', 'U+007F DELETE at position 4'],
  ['c1\u009b', 'U+009B CONTROL SEQUENCE INTRODUCER at position 3'],
  ['soft\u00adhyphen', 'U+00AD SOFT HYPHEN at position 5'],
  ['\ufeffbom', 'U+FEFF ZERO WIDTH NO-BREAK SPACE at position 1'],
  ['tag\u{e0041}', 'U+E0041 (an invisible format character) at position 4'],
  ['lone\ud800', 'U+D800 (a lone surrogate) at position 5'],
] as const;

describe('operator names', () => {
  it('operator names with bidi or zero-width characters are refused and nothing is written', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const before = dumpDatabase(h.dbPath);
    for (const [operator, named] of FORGED_NAMES) {
      const request = { operator, reason: 'drill' };
      for (const act of [
        () => h?.gov.operatorShutdown(request),
        () => h?.gov.operatorObserve(request),
        () => h?.gov.alertManager.acknowledge('no-such-alert', operator),
      ]) {
        const error = expectGovernorError(act, 'GOV_OPERATOR_REQUIRED');
        expect(error.message).toContain(`operator contains ${named}`);
      }
      await expect(h.gov.operatorResume(request)).rejects.toThrow(named);
    }
    expect(h.gov.getState()).toBe('AGGRESSIVE');
    expect(h.gov.canDeployCapital()).toBe(true);
    expect(dumpDatabase(h.dbPath)).toBe(before);
  });

  it('a forged name cannot clear a latch: restart is refused and the latch stays', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    h.gov.operatorShutdown({ operator: 'ann', reason: 'exchange incident' });
    const before = dumpDatabase(h.dbPath);
    expectGovernorError(
      () => h?.gov.operatorRestart({ operator: 'ann\u200d', reason: 'fixed' }),
      'GOV_OPERATOR_REQUIRED',
    );
    expect(h.gov.getState()).toBe('SHUTDOWN');
    expect(dumpDatabase(h.dbPath)).toBe(before);
  });

  it('the store refuses them too, whoever calls it, and writes nothing', () => {
    const path = tempDatabasePath();
    const store = Store.open(path);
    try {
      const before = dumpDatabase(path);
      for (const [operator, named] of FORGED_NAMES) {
        const writes = [
          () => store.operatorActions.record({ operator, action: 'SHUTDOWN', reason: 'drill' }),
          () => store.alerts.acknowledge('no-such-alert', operator, '2026-01-01T00:00:00.000Z'),
          () =>
            store.systemState.clearLatch({
              operator,
              reason: 'drill',
              at: '2026-01-01T00:00:00.000Z',
            }),
        ];
        for (const write of writes) {
          const error = expectGovernorError(write, 'GOV_OPERATOR_REQUIRED');
          expect(error.message).toContain(`operator contains ${named}`);
        }
      }
      expect(dumpDatabase(path)).toBe(before);
    } finally {
      store.close();
    }
  });

  it('ordinary names from many scripts are accepted (trimmed by the governor)', () => {
    for (const operator of ['alice', 'Zoë Ødegård', '山田 太郎', 'O’Brien-Smith', 'ops 🚨 bot']) {
      expect(
        checkOperatorRequest({ operator: ` ${operator} `, reason: 'r' }, 'test').operator,
      ).toBe(operator);
      expect(checkOperator(operator)).toBe(operator);
    }
  });

  it('property: checkOperatorRequest accepts exactly the names without a forbidden character', () => {
    fc.assert(
      fc.property(hostileText(40), (operator) => {
        const trimmed = operator.trim();
        const expected =
          trimmed !== '' &&
          Buffer.byteLength(trimmed) <= OPERATOR_NAME_BYTES_MAX &&
          !hasForbidden(operator);
        let accepted: boolean;
        try {
          expect(checkOperatorRequest({ operator, reason: 'r' }, 'test').operator).toBe(trimmed);
          accepted = true;
        } catch (error) {
          expect(isGovernorError(error, 'GOV_OPERATOR_REQUIRED')).toBe(true);
          accepted = false;
        }
        expect(accepted).toBe(expected);
      }),
      { numRuns: 3_000 },
    );
  });

  it('property: the store accepts exactly the names without a forbidden character', () => {
    fc.assert(
      fc.property(hostileText(40), (operator) => {
        const expected =
          operator.trim() !== '' &&
          Buffer.byteLength(operator.trim()) <= OPERATOR_NAME_BYTES_MAX &&
          !hasForbidden(operator);
        let accepted: boolean;
        try {
          expect(checkOperator(operator)).toBe(operator.trim());
          accepted = true;
        } catch (error) {
          expect(isGovernorError(error, 'GOV_OPERATOR_REQUIRED')).toBe(true);
          accepted = false;
        }
        expect(accepted).toBe(expected);
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('one rule for names and reasons, in UTF-8 bytes, wherever they are checked', () => {
  // 'é' is 2 bytes, '山' 3, '🚨' 4 (a surrogate pair: 2 UTF-16 units).
  const nameAt = (bytes: number, unit: string) =>
    `${unit.repeat(Math.floor(bytes / Buffer.byteLength(unit)))}${'a'.repeat(bytes % Buffer.byteLength(unit))}`;
  const governor = (operator: string, reason = 'r') =>
    checkOperatorRequest({ operator, reason }, 'test');

  it.each(['a', 'é', '山', '🚨'])(
    'a name of exactly the limit in bytes is accepted (%s)',
    (unit) => {
      const name = nameAt(OPERATOR_NAME_BYTES_MAX, unit);
      expect(Buffer.byteLength(name)).toBe(OPERATOR_NAME_BYTES_MAX);
      expect(governor(name).operator).toBe(name);
      expect(checkOperator(name)).toBe(name);
    },
  );

  it.each(['a', 'é', '山', '🚨'])('a name one byte over is refused by both (%s)', (unit) => {
    const name = `${nameAt(OPERATOR_NAME_BYTES_MAX - 1, unit)}é`;
    expect(Buffer.byteLength(name)).toBe(OPERATOR_NAME_BYTES_MAX + 1);
    const error = expectGovernorError(() => governor(name), 'GOV_OPERATOR_REQUIRED');
    expect(error.message).toContain(`at most ${OPERATOR_NAME_BYTES_MAX} bytes`);
    expectGovernorError(() => checkOperator(name), 'GOV_OPERATOR_REQUIRED');
  });

  it('multibyte characters count in bytes, not characters: 86 × 山 (86 characters) is too long', () => {
    const name = '山'.repeat(86);
    expect(name.length).toBeLessThan(OPERATOR_NAME_BYTES_MAX);
    expectGovernorError(() => governor(name), 'GOV_OPERATOR_REQUIRED');
    expect(governor('山'.repeat(85)).operator).toBe('山'.repeat(85));
  });

  it('the limit applies to the trimmed name: surrounding spaces do not count', () => {
    const name = 'a'.repeat(OPERATOR_NAME_BYTES_MAX);
    expect(governor(`  ${name}  `).operator).toBe(name);
    expect(checkOperator(`  ${name}  `)).toBe(name);
  });

  it.each(['a', 'é', '山', '🚨'])(
    'a reason at the limit is accepted, one byte over refused (%s)',
    (unit) => {
      const reason = nameAt(OPERATOR_REASON_BYTES_MAX, unit);
      expect(governor('ann', reason).reason).toBe(reason);
      expect(checkReason(reason)).toBe(reason);
      const over = `${nameAt(OPERATOR_REASON_BYTES_MAX - 1, unit)}é`;
      expect(Buffer.byteLength(over)).toBe(OPERATOR_REASON_BYTES_MAX + 1);
      const error = expectGovernorError(() => governor('ann', over), 'GOV_REASON_REQUIRED');
      expect(error.message).toContain(`at most ${OPERATOR_REASON_BYTES_MAX} bytes`);
      expectGovernorError(() => checkReason(over), 'GOV_REASON_REQUIRED');
    },
  );

  it('a name the governor accepts is one the store accepts, byte for byte (no second rule)', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const name = nameAt(OPERATOR_NAME_BYTES_MAX, '🚨');
    const reason = nameAt(OPERATOR_REASON_BYTES_MAX, '山');
    h.gov.operatorObserve({ operator: name, reason });
    const recorded = h.reader().operatorActions.list(1)[0];
    expect(recorded?.operator).toBe(name);
    expect(recorded?.reason).toBe(reason);
  });
});

describe('operator reasons', () => {
  it('a reason with NUL, ESC, newlines and bidi characters is stored verbatim', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const reason = `exchange said: ${TROUBLEMAKERS.join('')}\n  gate        open: AGGRESSIVE`;
    h.gov.operatorShutdown({ operator: 'ann', reason });
    const reader = h.reader();
    expect(reader.operatorActions.list(1)[0]?.reason).toBe(reason);
    expect(reader.systemState.get().latch?.reason).toBe(`operator ann: ${reason}`);
    expect(h.gov.getCause().reason).toBe(`operator ann: ${reason}`);
    expect(reader.integrityScan.verifyChain().ok).toBe(true);
  });

  it('a reason with a lone surrogate is refused before anything is written', async () => {
    h = makeHarness();
    await h.gov.runStartupChecks();
    const before = dumpDatabase(h.dbPath);
    const error = expectGovernorError(
      () => h?.gov.operatorShutdown({ operator: 'ann', reason: 'bad \udc00 text' }),
      'GOV_INVALID_TEXT',
    );
    expect(error.message).toContain('reason contains U+DC00 (a lone surrogate) at position 5');
    expect(h.gov.getState()).toBe('AGGRESSIVE');
    expect(dumpDatabase(h.dbPath)).toBe(before);
  });

  it('property: any well-formed reason is accepted and stored exactly as given (trimmed)', () => {
    const path = tempDatabasePath();
    const store = Store.open(path);
    try {
      fc.assert(
        fc.property(
          wellFormedHostileText(80).filter((text) => text.trim() !== ''),
          (given) => {
            const { reason } = checkOperatorRequest({ operator: 'ann', reason: given }, 'test');
            expect(reason).toBe(given.trim());
            const record = store.operatorActions.record({
              operator: 'ann',
              action: 'TEST',
              reason,
            });
            expect(store.operatorActions.list(1)[0]).toEqual(record);
            expect(record.reason).toBe(reason);
          },
        ),
        { numRuns: 300 },
      );
    } finally {
      store.close();
    }
  });
});
