/**
 * Goal: the operator vocabulary is the one table every consumer derives from. For each entry,
 * enumerated here and never listed by hand: the store records its name (the column's CHECK
 * included), the command line's table has it with the vocabulary's words and flags, the
 * owner's request watcher carries it out (or refuses it through the error catalogue, never
 * "failed"), and the result it reports reads back through the schema parser unchanged. A
 * command added to the table and missed by a consumer fails here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OPERATOR_REQUEST_COMMAND_PATTERN } from '../../../persistence/operator-requests.js';
import { Store } from '../../../persistence/store.js';
import { COMMANDS, findCommand, flagsOf } from '../../../services/cli/commands.js';
import { isRefusal } from '../../../services/errors.js';
import { executeCommand, RequestWatcher } from '../../../services/governor/operator-commands.js';
import { parseRecordedResult } from '../../../services/governor/operator-results.js';
import {
  type CommandTarget,
  OPERATOR_COMMAND_NAMES,
  OPERATOR_COMMANDS,
  type OperatorCommandEntry,
  operatorCommandEntry,
} from '../../../services/governor/operator-vocabulary.js';
import { silentLogger } from '../../../services/logger.js';

/** A target that does what each command asks and reports it, as the GovernanceSystem does. */
function fakeTarget(): CommandTarget {
  return {
    operatorShutdown: () => {},
    operatorObserve: () => {},
    operatorResume: () => Promise.resolve(true),
    restartFromOutside: () => Promise.resolve(),
    thresholdsOrigin: () => ({ source: 'recorded', pid: 7, host: 'h', recordedAt: 'now' }),
    acknowledgeAlert: (alertId, operator) => ({ alertId, acknowledgedBy: operator }),
    adjustCapital: () => ({
      before: { poolId: 'p', totalMinor: '1' },
      after: { poolId: 'p', totalMinor: '2' },
      reconciled: true,
    }),
    commandResult: () => ({
      state: 'AGGRESSIVE',
      gateOpen: true,
      cause: null,
      trigger: null,
      reason: null,
    }),
  };
}

const each = OPERATOR_COMMANDS.map((entry) => [entry.name, entry] as const);

/** True when the entry accepts a request with no options; false when it needs some. */
function acceptsNoOptions(entry: OperatorCommandEntry): boolean {
  try {
    entry.checkOptions({});
    return true;
  } catch (error) {
    // Needing options is a refusal of the request, by the catalogue's word.
    expect(isRefusal(error)).toBe(true);
    return false;
  }
}

describe('the operator vocabulary', () => {
  it('names each command once, in the form the store accepts', () => {
    expect(new Set(OPERATOR_COMMAND_NAMES).size).toBe(OPERATOR_COMMANDS.length);
    for (const name of OPERATOR_COMMAND_NAMES)
      expect(name).toMatch(OPERATOR_REQUEST_COMMAND_PATTERN);
    expect(OPERATOR_COMMANDS.length).toBeGreaterThanOrEqual(6);
  });

  it('refuses a name it does not hold, naming the ones it does', () => {
    expect(() => operatorCommandEntry('drain')).toThrow(
      `GOV_INVALID_ARGUMENT: unknown operator command "drain": expected one of ${OPERATOR_COMMAND_NAMES.join(', ')}`,
    );
  });

  describe.each(each)('%s', (_name, entry) => {
    it('the command line has it, with the vocabulary words, usage, help and flags', () => {
      const spec = findCommand(entry.cli.name);
      expect(spec).toBeDefined();
      expect(COMMANDS.filter((command) => command.name === entry.cli.name)).toHaveLength(1);
      expect(spec?.usage).toBe(entry.cli.usage);
      expect(spec?.summary).toBe(entry.cli.summary);
      expect(spec?.description).toBe(entry.cli.description);
      const flags = spec === undefined ? {} : flagsOf(spec);
      for (const [flag, declared] of Object.entries(entry.cli.flags)) {
        expect(flags[flag], flag).toEqual(declared);
      }
      for (const flag of Object.keys(entry.cli.optionFlags ?? {})) {
        expect(entry.cli.flags[flag], flag).toBeDefined();
      }
    });

    it('the command line waits a bounded time for it', () => {
      expect(entry.confirmWaitMs).toBeGreaterThan(0);
      expect(entry.confirmWaitMs).toBeLessThanOrEqual(60_000);
    });

    it('its result reads back through the schema parser unchanged', async () => {
      if (!acceptsNoOptions(entry)) return;
      const result = await executeCommand(
        fakeTarget(),
        { command: entry.name, operator: 'ann', reason: 'r', alertId: 'al-1' },
        'owner',
        0,
      );
      const stored = JSON.parse(JSON.stringify(result));
      expect(
        parseRecordedResult({ id: 1, status: 'done', result: stored }, entry.resultExtras),
      ).toEqual(stored);
    });
  });

  it('the adjust result reads back through the schema parser unchanged', async () => {
    const entry = operatorCommandEntry('adjust');
    const result = await executeCommand(
      fakeTarget(),
      {
        command: 'adjust',
        operator: 'ann',
        reason: 'r',
        options: { poolId: 'p', amountMinor: '-1' },
      },
      'owner',
      0,
    );
    const stored = JSON.parse(JSON.stringify(result));
    expect(stored.correction).toBeDefined();
    expect(
      parseRecordedResult({ id: 1, status: 'done', result: stored }, entry.resultExtras),
    ).toEqual(stored);
  });
});

describe('the store and the request watcher know every command of the vocabulary', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'governor-vocabulary-'));
    store = Store.open(join(dir, 'governor.db'));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(each)(
    '%s: recorded (the CHECK accepts it), then carried out or refused, never failed',
    async (name, entry) => {
      const { id } = store.operatorRequests.record(
        { command: name, operator: 'ann', reason: 'r', alertId: 'al-1', requestedBy: 'cli' },
        1,
      );
      const watcher = new RequestWatcher(store, fakeTarget(), {
        logger: silentLogger(),
        wallNow: () => 2,
        handledBy: 'owner',
      });
      expect(await watcher.drain()).toBe(1);
      const handled = store.operatorRequests.get(id);
      expect(handled?.status).toBe(acceptsNoOptions(entry) ? 'done' : 'refused');
      if (handled === null) return;
      expect(() => parseRecordedResult(handled, entry.resultExtras)).not.toThrow();
    },
  );

  it('a request for a command the vocabulary does not hold is refused by the watcher (GOV_INVALID_ARGUMENT)', async () => {
    const { id } = store.operatorRequests.record(
      { command: 'drain', operator: 'ann', reason: 'r', requestedBy: 'cli' },
      1,
    );
    await new RequestWatcher(store, fakeTarget(), {
      logger: silentLogger(),
      wallNow: () => 2,
      handledBy: 'owner',
    }).drain();
    expect(store.operatorRequests.get(id)).toMatchObject({
      status: 'refused',
      result: { code: 'GOV_INVALID_ARGUMENT' },
    });
  });
});
