/**
 * The operator vocabulary, in one table: every command a process can record for the owner of a
 * database, with its name on the request row, its command-line words, flags and help, how its
 * options are validated, how the owner carries it out and what its result carries. The request
 * records, the request watcher, the command line's table and its generic operator command, and
 * the control socket's refusal all derive from it; which outcomes are refusals is the error
 * catalogue's word (`refusal` in services/errors.ts), not this table's.
 */
import { GovernorError } from '../errors.js';
import type { OperatorRequest } from '../operator.js';
import type { CorrectionResult, ResultExtra, StateReport } from './operator-results.js';
import type { ThresholdsOrigin } from './preflight.js';

/** A command-line flag, as the command line's table declares one (services/cli/command-spec.ts). */
export interface OperatorFlag {
  readonly type: 'string' | 'boolean';
  readonly value?: string;
  readonly description: string;
}

export const OPERATOR_NAME_FLAG: OperatorFlag = {
  type: 'string',
  value: 'NAME',
  description: 'who gives the command (recorded in the audit trail)',
};
export const OPERATOR_REASON_FLAG: OperatorFlag = {
  type: 'string',
  value: 'TEXT',
  description: 'why (recorded in the audit trail)',
};
const OPERATOR_FLAGS = { operator: OPERATOR_NAME_FLAG, reason: OPERATOR_REASON_FLAG } as const;

/** What the commands act on: the GovernanceSystem's audited operator calls. */
export interface CommandTarget {
  operatorShutdown(request: OperatorRequest): void;
  operatorObserve(request: OperatorRequest): void;
  operatorResume(request: OperatorRequest): Promise<boolean>;
  /** Restart (pre-flight first unless forced), then a lifecycle as the last one ran. */
  restartFromOutside(request: OperatorRequest, options: { force: boolean }): Promise<unknown>;
  /** Whose thresholds a restart's pre-flight uses. */
  thresholdsOrigin(): ThresholdsOrigin;
  acknowledgeAlert(alertId: string, operator: string): unknown;
  /** The audited capital correction; returns the pool before and after. */
  adjustCapital(request: OperatorRequest, options: Readonly<Record<string, unknown>>): unknown;
  commandResult(): StateReport;
}

/** One command as the owner receives it: who, why, the alert it names, its raw options. */
export interface CommandInput extends OperatorRequest {
  readonly alertId?: string;
  readonly options?: Readonly<Record<string, unknown>>;
}

/** What carrying a command out adds to the state it reached (each a ResultExtra). */
export interface CommandExtras {
  readonly settling?: boolean;
  readonly alert?: unknown;
  readonly correction?: CorrectionResult;
  readonly preflightThresholds?: ThresholdsOrigin;
}

/** Waits for `work` at most `boundMs`: true when it settled (a rejection is thrown). */
export type SettleWithin = (work: Promise<unknown>) => Promise<boolean>;

export interface OperatorCommandSpec<Options> {
  /** Its name on the request row (`operator_requests.command`): lower-case letters and dashes. */
  readonly name: string;
  /** Its words, usage, help and flags on the command line (services/cli/operator-specs.ts). */
  readonly cli: {
    readonly name: string;
    readonly usage: string;
    readonly summary: string;
    readonly description: string;
    readonly flags: Readonly<Record<string, OperatorFlag>>;
    readonly examples: readonly string[];
    /** Flags the generic command turns into the request's options: flag → option key. */
    readonly optionFlags?: Readonly<Record<string, string>>;
  };
  /** How long the command line waits for the owner's confirmation (ms). */
  readonly confirmWaitMs: number;
  /** Not confirmed in time, it stays recorded for the owner (safe whenever it lands); else withdrawn. */
  readonly keptWhenUnconfirmed: boolean;
  /** The options as recorded (plain JSON), checked: GOV_INVALID_ARGUMENT when they do not fit. */
  readonly parseOptions: (options: Readonly<Record<string, unknown>>) => Options;
  /** Carries it out through the target; throws the GovernanceSystem's refusal unchanged. */
  readonly run: (
    target: CommandTarget,
    input: CommandInput,
    options: Options,
    settle: SettleWithin,
  ) => Promise<CommandExtras>;
  /** The extras its result may carry (checked when the result is read back). */
  readonly resultExtras: readonly ResultExtra[];
}

/** A table row, its options' type erased: `execute` validates them, then runs. */
export interface OperatorCommandEntry
  extends Omit<OperatorCommandSpec<unknown>, 'parseOptions' | 'run'> {
  /** Checks the options (GOV_INVALID_ARGUMENT), before anything is recorded or carried out. */
  readonly checkOptions: (options: Readonly<Record<string, unknown>>) => void;
  readonly execute: (
    target: CommandTarget,
    input: CommandInput,
    settle: SettleWithin,
  ) => Promise<CommandExtras>;
}

function define<Options>(spec: OperatorCommandSpec<Options>): OperatorCommandEntry {
  const { parseOptions, run, ...rest } = spec;
  return {
    ...rest,
    checkOptions: (options) => {
      parseOptions(options);
    },
    execute: (target, input, settle) =>
      run(target, input, parseOptions(input.options ?? {}), settle),
  };
}

function invalidOption(command: string, key: string, expected: string): GovernorError {
  return new GovernorError(
    'GOV_INVALID_ARGUMENT',
    `${command}: option ${key} must be ${expected}`,
    { field: `options.${key}` },
  );
}

/** Options with none of the keys `allowed` names refused; the rest returned as they are. */
function onlyKeys(
  command: string,
  options: Readonly<Record<string, unknown>>,
  allowed: readonly string[],
): Readonly<Record<string, unknown>> {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw invalidOption(command, key, 'absent (unknown option)');
  }
  return options;
}

const noOptions = (command: string) => (options: Readonly<Record<string, unknown>>) => {
  onlyKeys(command, options, []);
};

/** resume and restart answer within the owner's own bound; the command line waits longer. */
const CHECKS_CONFIRM_WAIT_MS = 30_000;
const CONFIRM_WAIT_MS_DEFAULT = 5_000;

export const OPERATOR_COMMANDS: readonly OperatorCommandEntry[] = [
  define({
    name: 'shutdown',
    cli: {
      name: 'shutdown',
      usage: 'shutdown --operator NAME --reason TEXT [--authority URL --scope S [--wait-ms MS]]',
      summary: 'the kill switch: SHUTDOWN now (with --authority: every host in a fleet scope)',
      description:
        "Records the kill switch in the database; the owner (daemon or embedded engine) carries it out and confirms. With no owner running, the command carries it out itself and the latch holds for the next start. With venues on record, prints one line per venue: the orders cancelled and when it was flat, read from the owner's events (up to venueFlatWithinMs and a second), or, with no owner running, when the venue's dead man's switch cancels its orders (a venue whose orders lived in the owner's process, such as the demo's paper exchange, is flat then). Exit 9 when a venue is not confirmed flat and nothing is on its way to cancel there. With --authority and --scope: commits the kill of that scope in the fleet authority (its epoch raised, NOTIFY sent), prints each host's confirmation as it arrives (\"host-3: SHUTDOWN, 41 ms\") and names the hosts that did not confirm by their lease's end (exit 7).",
      flags: OPERATOR_FLAGS,
      examples: [
        'governor shutdown --operator "$(id -un)" --reason "INC-123: exchange incident"',
        'governor shutdown --authority "$FLEET_URL" --scope firm/desk-a --operator "$(id -un)" --reason "INC-124"',
      ],
    },
    confirmWaitMs: CONFIRM_WAIT_MS_DEFAULT,
    keptWhenUnconfirmed: true,
    parseOptions: noOptions('shutdown'),
    run: async (target, input) => {
      target.operatorShutdown(input);
      return {};
    },
    resultExtras: [],
  }),
  define({
    name: 'observe',
    cli: {
      name: 'observe',
      usage: 'observe --operator NAME --reason TEXT',
      summary: 'AGGRESSIVE (or CHECKING) -> OBSERVE_ONLY',
      description:
        'Stops new capital without shutting down. With no owner running, the next start goes to OBSERVE_ONLY.',
      flags: OPERATOR_FLAGS,
      examples: ['governor observe --operator "$(id -un)" --reason "news at 14:30"'],
    },
    confirmWaitMs: CONFIRM_WAIT_MS_DEFAULT,
    keptWhenUnconfirmed: true,
    parseOptions: noOptions('observe'),
    run: async (target, input) => {
      target.operatorObserve(input);
      return {};
    },
    resultExtras: [],
  }),
  define({
    name: 'resume',
    cli: {
      name: 'resume',
      usage: 'resume --operator NAME --reason TEXT',
      summary: 'OBSERVE_ONLY -> startup checks -> AGGRESSIVE',
      description:
        'Runs the startup checks again; AGGRESSIVE only when they pass. Needs a running owner (exit 3 otherwise).',
      flags: OPERATOR_FLAGS,
      examples: ['governor resume --operator "$(id -un)" --reason "news passed"'],
    },
    confirmWaitMs: CHECKS_CONFIRM_WAIT_MS,
    keptWhenUnconfirmed: false,
    parseOptions: noOptions('resume'),
    run: async (target, input, _options, settle) => {
      const resumed = target.operatorResume(input);
      // A refusal (wrong state) rejects at once: report it, not a state.
      await Promise.race([resumed, Promise.resolve()]);
      return (await settle(resumed)) ? {} : { settling: true };
    },
    resultExtras: ['settling'],
  }),
  define({
    name: 'restart',
    cli: {
      name: 'restart',
      usage: 'restart --operator NAME --reason TEXT [--force]',
      summary: 'clear the SHUTDOWN latch, after a pre-flight',
      description:
        'The owner first runs a pre-flight: the fail-safe rules on the inputs as they are now and capital reconciliation. When something would shut governor down again at once, the restart is refused (exit 2, nothing changed) and each rule is named; fix it, or use --force. Then the latch is cleared and the owner runs the startup checks. A restart that ends in SHUTDOWN again exits 8.',
      flags: {
        ...OPERATOR_FLAGS,
        force: {
          type: 'boolean',
          description: 'restart even when the pre-flight finds a rule that would trip again',
        },
      },
      examples: [
        'governor restart --operator "$(id -un)" --reason "INC-123: feed reconnected, verified"',
        'governor restart --operator "$(id -un)" --reason "INC-123: known stale feed" --force',
      ],
      optionFlags: { force: 'force' },
    },
    confirmWaitMs: CHECKS_CONFIRM_WAIT_MS,
    keptWhenUnconfirmed: false,
    parseOptions: (options) => {
      onlyKeys('restart', options, ['force']);
      if (options.force !== undefined && typeof options.force !== 'boolean') {
        throw invalidOption('restart', 'force', 'true or false');
      }
      return { force: options.force === true };
    },
    run: async (target, input, { force }, settle) => {
      const preflightThresholds = force ? undefined : target.thresholdsOrigin();
      const settled = await settle(target.restartFromOutside(input, { force }));
      return {
        ...(settled ? {} : { settling: true }),
        ...(preflightThresholds === undefined ? {} : { preflightThresholds }),
      };
    },
    resultExtras: ['settling', 'preflightThresholds'],
  }),
  define({
    name: 'adjust',
    cli: {
      name: 'capital adjust',
      usage:
        'capital adjust --pool ID [--account ID] --amount MINOR --operator NAME --reason TEXT [--dry-run] [--force]',
      summary: 'audited correction of capital records (after CAPITAL_INCONSISTENT)',
      description:
        "Moves one account's balance (or, without --account, the pool's total) by a signed number of minor units, in one transaction with its audit row and a CAPITAL_CORRECTED event, carried out by the owner. The pool's mismatch and the result are shown before it is applied; a correction that leaves the pool unreconciled is refused unless --force (a running governor would shut down on it).",
      flags: {
        pool: { type: 'string', value: 'ID', description: 'the capital pool' },
        account: {
          type: 'string',
          value: 'ID',
          description: "the account to correct (without it: the pool's total)",
        },
        amount: {
          type: 'string',
          value: 'MINOR',
          description: 'signed integer of minor units, e.g. -1 or +2500 (cents)',
        },
        ...OPERATOR_FLAGS,
        'dry-run': {
          type: 'boolean',
          description: 'show the mismatch and the result; change nothing',
        },
        force: {
          type: 'boolean',
          description: 'apply even when the pool stays unreconciled afterwards',
        },
      },
      examples: [
        'governor capital adjust --pool cash-pool --account cash --amount -1 --dry-run',
        'governor capital adjust --pool cash-pool --account cash --amount -1 --operator "$(id -un)" --reason "INC-9: fee booked twice"',
      ],
    },
    confirmWaitMs: CONFIRM_WAIT_MS_DEFAULT,
    keptWhenUnconfirmed: false,
    parseOptions: (options) => {
      onlyKeys('adjust', options, ['poolId', 'accountId', 'amountMinor']);
      if (typeof options.poolId !== 'string') throw invalidOption('adjust', 'poolId', 'a string');
      if (options.accountId !== undefined && typeof options.accountId !== 'string') {
        throw invalidOption('adjust', 'accountId', 'a string');
      }
      if (typeof options.amountMinor !== 'string' || !/^[+-]?\d{1,20}$/.test(options.amountMinor)) {
        throw invalidOption('adjust', 'amountMinor', 'a signed integer of minor units, as text');
      }
      return options;
    },
    run: async (target, input, options) => ({
      correction: correctionOf(target.adjustCapital(input, options)),
    }),
    resultExtras: ['correction'],
  }),
  define({
    name: 'ack',
    cli: {
      name: 'ack',
      usage: 'ack ID --operator NAME',
      summary: 'acknowledge an alert',
      description:
        'Acknowledges one alert in the name of an operator, through the owner of the database (which confirms), or itself when none runs.',
      flags: { operator: OPERATOR_NAME_FLAG },
      examples: ['governor ack 0b7c…e1 --operator "$(id -un)"'],
    },
    confirmWaitMs: CONFIRM_WAIT_MS_DEFAULT,
    keptWhenUnconfirmed: true,
    parseOptions: noOptions('ack'),
    run: async (target, input) => ({
      // As JSON (dates as ISO-8601 text): the outcome is recorded on the request row, which
      // refuses a Date.
      alert: JSON.parse(
        JSON.stringify(target.acknowledgeAlert(input.alertId ?? '', input.operator) ?? null),
      ),
    }),
    resultExtras: ['alert'],
  }),
];

/** The pool before and after a correction, as the target reports it (checked, not cast). */
function correctionOf(value: unknown): CorrectionResult {
  const field = (key: string): unknown =>
    typeof value === 'object' && value !== null ? Reflect.get(value, key) : undefined;
  const text = (part: unknown): Readonly<Record<string, string>> => {
    const entries = typeof part === 'object' && part !== null ? Object.entries(part) : [];
    return Object.fromEntries(
      entries.filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
  };
  return {
    before: text(field('before')),
    after: text(field('after')),
    reconciled: field('reconciled') === true,
  };
}

/** The names on request rows, in table order. */
export const OPERATOR_COMMAND_NAMES: readonly string[] = OPERATOR_COMMANDS.map(
  (entry) => entry.name,
);

/** The entry named `name` (as on a request row), or undefined. */
export function findOperatorCommand(name: unknown): OperatorCommandEntry | undefined {
  return OPERATOR_COMMANDS.find((entry) => entry.name === name);
}

/** The entry named `name`, or GOV_INVALID_ARGUMENT naming the known ones. */
export function operatorCommandEntry(name: unknown): OperatorCommandEntry {
  const entry = findOperatorCommand(name);
  if (entry === undefined) {
    throw new GovernorError(
      'GOV_INVALID_ARGUMENT',
      `unknown operator command${typeof name === 'string' ? ` "${name.slice(0, 32)}"` : ''}: expected one of ${OPERATOR_COMMAND_NAMES.join(', ')}`,
      { field: 'command' },
    );
  }
  return entry;
}
