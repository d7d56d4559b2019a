/**
 * Goal: what `governor events` and the operator commands print is what an operator needs.
 * `--type` and `--since` select the newest matching events (ages and ISO times, bad values
 * refused as usage errors); operator-action rows say who did what; heartbeats keep the spec's
 * text. A restart that ends in SHUTDOWN exits 8 (issue "The operator's kit": it exited 0); a
 * restart its pre-flight refuses names each rule and the exact command to run next; refusals
 * read "observe is not possible in OBSERVE_ONLY", without the error code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import type { OperatorRequestRecord } from '../../../persistence/operator-requests.js';
import {
  eventText,
  newestMatching,
  parseSince,
  parseTypes,
} from '../../../services/cli/commands/events.js';
import { describeOutcome } from '../../../services/cli/commands/operator.js';
import { CliError, EXIT, plainMessage } from '../../../services/cli/exit-codes.js';
import { SimulatedClock } from '../../../services/clock.js';
import { GovernorError } from '../../../services/errors.js';
import { parseRecordedResult } from '../../../services/governor/operator-results.js';
import { operatorCommandEntry } from '../../../services/governor/operator-vocabulary.js';
import type { RequestOutcome } from '../../../services/governor/ownership/index.js';

const NOW_MS = Date.parse('2026-03-02T12:00:00.000Z');
const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

function usageError(run: () => unknown): boolean {
  try {
    run();
  } catch (error) {
    return error instanceof CliError && error.exitCode === EXIT.USAGE;
  }
  return false;
}

describe('events: --type and --since', () => {
  it('parses ages, ISO times and type lists; refuses anything else as a usage error', () => {
    expect(parseSince('90s', NOW_MS)).toBe('2026-03-02T11:58:30.000Z');
    expect(parseSince('15m', NOW_MS)).toBe('2026-03-02T11:45:00.000Z');
    expect(parseSince('2h', NOW_MS)).toBe('2026-03-02T10:00:00.000Z');
    expect(parseSince('7d', NOW_MS)).toBe('2026-02-23T12:00:00.000Z');
    expect(parseSince('2026-03-01T09:30:00Z', NOW_MS)).toBe('2026-03-01T09:30:00.000Z');
    expect(parseSince(undefined, NOW_MS)).toBeNull();
    expect(usageError(() => parseSince('yesterday', NOW_MS))).toBe(true);
    expect(usageError(() => parseSince('5 minutes', NOW_MS))).toBe(true);
    expect([
      ...(parseTypes(['OPERATOR_ACTION', 'SYSTEM_SHUTDOWN,CAPITAL_CORRECTED']) ?? []),
    ]).toEqual(['OPERATOR_ACTION', 'SYSTEM_SHUTDOWN', 'CAPITAL_CORRECTED']);
    expect(parseTypes(undefined)).toBeNull();
    expect(usageError(() => parseTypes(['A,,B']))).toBe(true);
  });

  it('selects the newest matching events, oldest first, across pages and by time', () => {
    const directory = mkdtempSync(join(tmpdir(), 'gov-events-'));
    directories.push(directory);
    const clock = new SimulatedClock({ wallStartMs: NOW_MS - 3_000_000 });
    const store = Store.open(join(directory, 'governor.db'), { clock });
    try {
      // 2,500 events one second apart: every 100th an operator action.
      store.transaction(() => {
        for (let index = 1; index <= 2_500; index++) {
          store.events.append(
            index % 100 === 0
              ? {
                  eventType: 'OPERATOR_ACTION',
                  reason: `drill ${index}`,
                  metadata: { operator: 'olga', action: 'SHUTDOWN', state: 'AGGRESSIVE' },
                }
              : { eventType: 'ORDER_FILLED', reason: `order ${index}` },
          );
          clock.advance(1_000);
        }
      });
      const head = store.events.head()?.seq ?? 0;
      const actions = newestMatching(store.events, 1, head, 3, {
        types: new Set(['OPERATOR_ACTION']),
        since: null,
      });
      expect(actions.map((e) => e.reason)).toEqual(['drill 2300', 'drill 2400', 'drill 2500']);
      const all = newestMatching(store.events, 1, head, 100, {
        types: new Set(['OPERATOR_ACTION']),
        since: null,
      });
      expect(all).toHaveLength(25);
      const since = new Date(NOW_MS - 3_000_000 + 2_249_500).toISOString();
      const recent = newestMatching(store.events, 1, head, 1_000, {
        types: new Set(['OPERATOR_ACTION']),
        since,
      });
      expect(recent.map((e) => e.reason)).toEqual(['drill 2300', 'drill 2400', 'drill 2500']);
      expect(eventText(actions[0] as (typeof actions)[number])).toBe(
        'olga SHUTDOWN in AGGRESSIVE: drill 2300',
      );
    } finally {
      store.close();
    }
  });

  it('leaves every other event, the heartbeat among them, as stored', () => {
    const heartbeat = {
      seq: 1,
      eventId: 'e',
      timestamp: '2026-03-02T12:00:00.000Z',
      eventType: 'SYSTEM_MODE_CHANGE',
      reason: 'Heartbeat - system alive',
      metadata: { heartbeat: true, uptime: '0d 0h 1m' },
      prevHash: '0',
      hash: '1',
    };
    expect(eventText(heartbeat)).toBe('Heartbeat - system alive');
  });
});

/**
 * A restart's outcome as the command line reads it: the row's result through the schema parser
 * (a result with a state gets the state fields the owner always reports, unless given).
 */
function outcome(kind: 'confirmed' | 'refused', given: Record<string, unknown>): RequestOutcome {
  const stated = kind === 'confirmed' || given.state !== undefined;
  const result = stated
    ? { gateOpen: false, cause: null, trigger: null, reason: null, ...given }
    : given;
  const record = {
    id: 1,
    command: 'restart',
    operator: 'olga',
    reason: 'feed back',
    alertId: null,
    options: {},
    requestedAtMs: 0,
    requestedBy: 'cli',
    status: kind === 'confirmed' ? 'done' : 'refused',
    handledAtMs: 30,
    handledBy: 'owner pid 7 on host',
    result,
  } satisfies OperatorRequestRecord;
  const request = {
    ...record,
    result: parseRecordedResult(record, operatorCommandEntry('restart').resultExtras),
  };
  return { kind, request, waitedMs: 30 };
}

/** A database whose name needs quoting in a pasted command. */
const LOCATION = { dbPath: '/srv/gov/demo db.db', configPath: null };

describe('operator outcomes', () => {
  it('regression: a restart that ended in SHUTDOWN exited 0; now it exits 8 and says so', () => {
    const { lines, exitCode } = describeOutcome(
      'restart',
      'olga',
      outcome('confirmed', {
        state: 'SHUTDOWN',
        trigger: 'MARKET_DATA_STALL',
        reason: 'no market data for 23s (threshold 8s)',
        handledBy: 'owner pid 7 on host',
        latencyMs: 30,
      }),
      LOCATION,
    );
    expect(exitCode).toBe(EXIT.RESTARTED_INTO_SHUTDOWN);
    expect(exitCode).toBe(8);
    expect(lines[0]).toBe(
      'restart by olga: governor is SHUTDOWN again (MARKET_DATA_STALL: no market data for 23s (threshold 8s)) (confirmed by owner pid 7 on host, 30 ms after the request)',
    );
  });

  it('a restart its pre-flight refused names each rule and the exact commands', () => {
    const { lines, exitCode } = describeOutcome(
      'restart',
      'olga',
      outcome('refused', {
        code: 'GOV_RESTART_WOULD_TRIP',
        message: 'GOV_RESTART_WOULD_TRIP: restart refused, nothing was changed: …',
        state: 'SHUTDOWN',
        preflight: {
          ok: false,
          trips: [
            {
              trigger: 'CAPITAL_INCONSISTENT',
              reason: 'pool p: total 10 != accounts 11 (diff -1)',
            },
          ],
          warnings: [],
          thresholds: { source: 'owner' },
        },
      }),
      LOCATION,
    );
    expect(exitCode).toBe(EXIT.REFUSED);
    expect(lines).toEqual([
      'refused by the owner: restart would shut governor down again at once; nothing was changed',
      'the pre-flight found:',
      '  CAPITAL_INCONSISTENT: pool p: total 10 != accounts 11 (diff -1)',
      "pre-flight with the running owner's thresholds",
      `Correct the records first (governor capital adjust --db '/srv/gov/demo db.db' --pool ID --account ID --amount MINOR --operator "$(id -un)" --reason TEXT; --dry-run shows the mismatch), then restart again.`,
      `To restart anyway: governor restart --db '/srv/gov/demo db.db' --operator "$(id -un)" --reason TEXT --force`,
    ]);
  });

  it("refusals speak the operator's language", () => {
    const { lines } = describeOutcome(
      'observe',
      'olga',
      outcome('refused', {
        code: 'GOV_INVALID_OPERATOR_ACTION',
        message:
          'GOV_INVALID_OPERATOR_ACTION: observe is not possible in OBSERVE_ONLY; nothing was changed',
        state: 'OBSERVE_ONLY',
      }),
      LOCATION,
    );
    expect(lines).toEqual([
      'refused by the owner: observe is not possible in OBSERVE_ONLY; nothing was changed',
    ]);
    const resume = describeOutcome(
      'resume',
      'olga',
      outcome('refused', {
        message:
          'GOV_INVALID_OPERATOR_ACTION: resume is not possible in SHUTDOWN; nothing was changed',
        state: 'SHUTDOWN',
      }),
      LOCATION,
    );
    expect(resume.lines[1]).toBe(
      `A SHUTDOWN is left only by a restart: governor restart --db '/srv/gov/demo db.db' --operator "$(id -un)" --reason TEXT`,
    );
    expect(
      plainMessage(new GovernorError('GOV_OPERATOR_REQUIRED', 'restart needs an operator name')),
    ).toBe('restart needs an operator name');
  });
});
