/** The shape of the command table (commands.ts): each command as data, and a loader of its code. */
import type { CommandContext } from './context.js';
import type { ExitCode } from './exit-codes.js';

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  /** The value's placeholder in help (string flags), e.g. `NAME`. */
  readonly value?: string;
  /** Values the shell completion offers. */
  readonly choices?: readonly string[];
  readonly description: string;
}

export type CommandRun = (context: CommandContext) => Promise<ExitCode>;

export interface CommandSpec {
  /** One word, or two for a subcommand (`capital adjust`). */
  readonly name: string;
  /** The synopsis after `governor `. */
  readonly usage: string;
  /** One line for the command list. */
  readonly summary: string;
  /** What it does, in a few sentences. */
  readonly description: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /** Values of the first positional argument the completion offers (e.g. shells). */
  readonly positionalChoices?: readonly string[];
  readonly examples: readonly string[];
  readonly exits: readonly ExitCode[];
  readonly load: () => Promise<CommandRun>;
}

/** The table, with its subcommand groups and every command's flags (common ones included). */
export interface CommandTable {
  readonly commands: readonly CommandSpec[];
  readonly groups: ReadonlySet<string>;
  flagsOf(command: CommandSpec): Readonly<Record<string, FlagSpec>>;
}
