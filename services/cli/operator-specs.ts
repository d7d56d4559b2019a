/**
 * The operator commands of the `governor` command table, derived from the operator vocabulary
 * (services/governor/operator-vocabulary.ts): their words, usage, help and flags come from
 * there. Here is only what is the command line's own: the exit codes a command adds to the
 * common ones, flags beyond the vocabulary's, and the code that runs it where the generic
 * operator command (commands/operator.ts) does not fit.
 */
import {
  OPERATOR_COMMANDS,
  OPERATOR_NAME_FLAG,
  OPERATOR_REASON_FLAG,
  type OperatorCommandEntry,
  operatorCommandEntry,
} from '../governor/operator-vocabulary.js';
import type { CommandRun, CommandSpec, FlagSpec } from './command-spec.js';
import { EXIT, type ExitCode } from './exit-codes.js';

export const OPERATOR_FLAGS: Readonly<Record<string, FlagSpec>> = {
  operator: OPERATOR_NAME_FLAG,
  reason: OPERATOR_REASON_FLAG,
};

const AUTHORITY_FLAG: FlagSpec = {
  type: 'string',
  value: 'URL',
  description:
    'the fleet authority, postgresql://... (GOVERNOR_AUTHORITY; else the PG* variables); docs/fleet.md',
};

export const FLEET_FLAGS: Readonly<Record<string, FlagSpec>> = {
  authority: AUTHORITY_FLAG,
  scope: { type: 'string', value: 'S', description: 'a fleet scope, e.g. firm/desk-a' },
  'wait-ms': {
    type: 'string',
    value: 'MS',
    description: 'how long to wait for the hosts (default: the longest lease among them)',
  },
};

export { AUTHORITY_FLAG };

export const OPERATOR_EXITS: readonly ExitCode[] = [
  EXIT.OK,
  EXIT.REFUSED,
  EXIT.NOT_FOUND,
  EXIT.FAILURE,
  EXIT.NOT_CONFIRMED,
];

/** The generic operator command (`--operator`, `--reason`, the entry's option flags). */
const generic = (name: string) => async (): Promise<CommandRun> => {
  const module = await import('./commands/operator.js');
  return (context) => module.operatorCommand(context, name);
};

/** What the command line adds to a vocabulary entry; an entry not named here is generic. */
interface CliOverride {
  readonly flags?: Readonly<Record<string, FlagSpec>>;
  readonly exits?: readonly ExitCode[];
  readonly load?: () => Promise<CommandRun>;
}

const OVERRIDES: Readonly<Record<string, CliOverride>> = {
  shutdown: {
    flags: FLEET_FLAGS,
    exits: [EXIT.NOT_FLAT],
    // With --authority or --scope: the fleet kill (commands/fleet.ts); else the local one.
    load: async () => {
      const local = await generic('shutdown')();
      return async (context) => {
        const fleet = context.values.authority !== undefined || context.values.scope !== undefined;
        if (!fleet) return local(context);
        return (await import('./commands/fleet.js')).fleetKillCommand(context);
      };
    },
  },
  resume: { exits: [EXIT.NOT_RUNNING] },
  restart: { exits: [EXIT.RESTARTED_INTO_SHUTDOWN] },
  adjust: {
    exits: [EXIT.USAGE],
    load: async () => (await import('./commands/capital.js')).capitalAdjustCommand,
  },
  ack: { load: async () => (await import('./commands/alerts.js')).ackCommand },
};

function specOf(entry: OperatorCommandEntry): CommandSpec {
  const override = OVERRIDES[entry.name] ?? {};
  return {
    name: entry.cli.name,
    usage: entry.cli.usage,
    summary: entry.cli.summary,
    description: entry.cli.description,
    flags: { ...entry.cli.flags, ...override.flags },
    examples: entry.cli.examples,
    exits: [...OPERATOR_EXITS, ...(override.exits ?? [])],
    load: override.load ?? generic(entry.name),
  };
}

/** The command-line spec of the vocabulary's command `name`. */
export function operatorSpec(name: string): CommandSpec {
  return specOf(operatorCommandEntry(name));
}

/** Every vocabulary command but those named, in the vocabulary's order. */
export function operatorSpecsExcept(names: readonly string[]): CommandSpec[] {
  return OPERATOR_COMMANDS.filter((entry) => !names.includes(entry.name)).map(specOf);
}
