/**
 * STRATEGIES: every state is one of STRATEGY_STATES; every history starts with a registration
 * into an initial state, moves only along STRATEGY_TRANSITIONS, links each from-state to the
 * previous to-state and ends in the strategy's current state; no history of a missing strategy.
 * Every row is well formed as governor writes it (identifiers, the reason and the timestamps:
 * bytes damaged in place turn up here). The history is streamed in (strategy, id) order.
 */
import type BetterSqlite3 from 'better-sqlite3';
import {
  STRATEGY_INITIAL_STATES,
  STRATEGY_STATES,
  STRATEGY_TRANSITIONS,
} from '../../strategies.js';
import { checkIdentifier, checkText, checkTimestamp, LIMITS } from '../../validation.js';
import { Findings, type IntegrityViolation } from '../violation.js';
import type { TableCheck } from './check.js';

type StrategyFindingKind =
  | 'INVALID_STATE'
  | 'INVALID_TRANSITION'
  | 'BROKEN_HISTORY'
  | 'STATE_DISAGREES_WITH_HISTORY'
  | 'NO_HISTORY'
  | 'ORPHAN_TRANSITION'
  | 'MALFORMED_ROW';

const STATE_SET: ReadonlySet<string> = new Set(STRATEGY_STATES);
const INITIAL_STATE_SET: ReadonlySet<string> = new Set(STRATEGY_INITIAL_STATES);

function allowedMove(from: string, to: string): boolean {
  const allowed = (STRATEGY_TRANSITIONS as Readonly<Record<string, readonly string[]>>)[from];
  return allowed?.includes(to) === true;
}

function violation(
  kind: StrategyFindingKind,
  strategyId: string,
  transitionId: number | null,
  detail: string,
): IntegrityViolation {
  const location: Record<string, string | number> = { strategyId, kind };
  if (transitionId !== null) location.transitionId = transitionId;
  return {
    check: 'STRATEGIES',
    severity: 'CRITICAL',
    description: `strategy ${strategyId}: ${detail}`,
    location,
    rootCause:
      'strategy state or history was written outside governor (states and moves are checked on every write)',
    recommendedAction:
      'Restore the strategy records from a backup, or set the strategy to a known state through governor, then `governor resume --operator NAME --reason TEXT` (`governor restart --operator NAME --reason TEXT` when it is in SHUTDOWN).',
  };
}

/** What is wrong with the fields of a row, by the checks its write passed; null when nothing. */
function malformed(fields: ReadonlyArray<readonly [string, unknown, (value: unknown) => unknown]>) {
  const wrong: string[] = [];
  for (const [name, value, check] of fields) {
    try {
      check(value);
    } catch {
      wrong.push(name);
    }
  }
  return wrong.length === 0 ? null : `malformed ${wrong.join(', ')}`;
}

const identifier = (value: unknown) => checkIdentifier('strategyId', value);
const timestamp = (value: unknown) => checkTimestamp('at', value);
const reasonText = (value: unknown) => checkText('reason', value, LIMITS.reasonBytesMax);

function states(db: BetterSqlite3.Database, findings: Findings<IntegrityViolation>): void {
  const rows = db
    .prepare<[], [string, unknown, unknown, unknown]>(
      'SELECT strategy_id, state, registered_at, updated_at FROM strategies ORDER BY strategy_id',
    )
    .raw(true);
  for (const [strategyId, state, registeredAt, updatedAt] of rows.iterate()) {
    const wrong = malformed([
      ['strategy_id', strategyId, identifier],
      ['registered_at', registeredAt, timestamp],
      ['updated_at', updatedAt, timestamp],
    ]);
    if (wrong !== null) {
      findings.add(violation('MALFORMED_ROW', String(strategyId).slice(0, 64), null, wrong));
    }
    if (typeof state !== 'string' || !STATE_SET.has(state)) {
      findings.add(
        violation(
          'INVALID_STATE',
          strategyId,
          null,
          `state ${String(state).slice(0, 40)} is not one of ${STRATEGY_STATES.join(', ')}`,
        ),
      );
    }
  }
  const missing = db
    .prepare<[], string>(
      `SELECT s.strategy_id FROM strategies s WHERE NOT EXISTS
         (SELECT 1 FROM strategy_transitions t WHERE t.strategy_id = s.strategy_id)`,
    )
    .pluck();
  for (const strategyId of missing.iterate()) {
    findings.add(
      violation('NO_HISTORY', strategyId, null, 'no registration in strategy_transitions'),
    );
  }
}

function histories(db: BetterSqlite3.Database, findings: Findings<IntegrityViolation>): void {
  const history = db
    .prepare<[], [number, string, unknown, unknown, unknown, unknown, unknown]>(
      `SELECT t.id, t.strategy_id, t.from_state, t.to_state, s.state, t.reason, t.at
         FROM strategy_transitions t LEFT JOIN strategies s ON s.strategy_id = t.strategy_id
        ORDER BY t.strategy_id, t.id`,
    )
    .raw(true);
  let current: { strategyId: string; last: unknown; state: unknown; id: number } | null = null;
  const finish = (): void => {
    if (current !== null && current.state !== null && current.last !== current.state) {
      findings.add(
        violation(
          'STATE_DISAGREES_WITH_HISTORY',
          current.strategyId,
          current.id,
          `state ${String(current.state)} but the last recorded move ends in ${String(current.last)}`,
        ),
      );
    }
  };
  for (const [id, strategyId, from, to, state, reason, at] of history.iterate()) {
    const wrong = malformed([
      ['strategy_id', strategyId, identifier],
      ['reason', reason, reasonText],
      ['at', at, timestamp],
    ]);
    if (wrong !== null) {
      findings.add(
        violation(
          'MALFORMED_ROW',
          String(strategyId).slice(0, 64),
          id,
          `transition ${id}: ${wrong}`,
        ),
      );
    }
    if (current === null || current.strategyId !== strategyId) {
      finish();
      current = { strategyId, last: null, state, id };
      if (state === null) {
        findings.add(
          violation(
            'ORPHAN_TRANSITION',
            strategyId,
            id,
            `transition ${id} names a strategy that does not exist`,
          ),
        );
      }
      if (from !== null || typeof to !== 'string' || !INITIAL_STATE_SET.has(to)) {
        findings.add(
          violation(
            'BROKEN_HISTORY',
            strategyId,
            id,
            `history starts with ${String(from)} -> ${String(to)}, not a registration into ${STRATEGY_INITIAL_STATES.join(', ')}`,
          ),
        );
      }
    } else if (from !== current.last) {
      findings.add(
        violation(
          'BROKEN_HISTORY',
          strategyId,
          id,
          `transition ${id} starts from ${String(from)} but the previous move ended in ${String(current.last)}`,
        ),
      );
    } else if (typeof from !== 'string' || typeof to !== 'string' || !allowedMove(from, to)) {
      findings.add(
        violation(
          'INVALID_TRANSITION',
          strategyId,
          id,
          `${String(from)} -> ${String(to)} is not an allowed move`,
        ),
      );
    }
    current.last = to;
    current.id = id;
  }
  finish();
}

export const strategiesCheck: TableCheck = {
  name: 'STRATEGIES',
  scan(run) {
    return run.store.integrityScan.read('integrity.strategies', (db) => {
      const findings = new Findings<IntegrityViolation>(run.findingsMax);
      states(db, findings);
      histories(db, findings);
      return { violations: findings.items, dropped: findings.dropped, resumeAt: 0 };
    });
  },
};
