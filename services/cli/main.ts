/**
 * The `governor` command line: finds the command in the table (commands.ts), parses its flags
 * (node:util parseArgs, strict), loads only that command's code, runs it, and turns any error
 * into one line on stderr and a documented exit code.
 */

import { parseArgs } from 'node:util';
import { displayText } from '../display-text.js';
import { describeError } from '../errors.js';
import {
  COMMAND_GROUPS,
  COMMANDS,
  type CommandSpec,
  EXIT_SUMMARY,
  findCommand,
  flagsOf,
} from './commands.js';
import type { CommandContext } from './context.js';
import { flagParseMessage, printError } from './error-text.js';
import { CliError, EXIT, type ExitCode, exitCodeFor, plainMessage } from './exit-codes.js';
import { createOutput, type Output, toJson } from './output.js';

function usage(out: Output): void {
  out.line(
    'usage: governor COMMAND [flags]       governor help COMMAND for its flags and examples',
  );
  out.line();
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  for (const command of COMMANDS) out.line(`  ${command.name.padEnd(width)}  ${command.summary}`);
  out.line();
  out.line('every command: --db PATH --config FILE --socket PATH --json --help');
  out.line('governor --version prints the version.');
  out.line(EXIT_SUMMARY);
  out.line('docs/operations.md has the runbook.');
}

let closedPipesIgnored = false;

/**
 * A reader that goes away early (`governor status | head -3`) ends the output, not the command
 * with an unhandled EPIPE and a stack trace; the exit code stays the command's.
 */
function ignoreClosedPipes(): void {
  if (closedPipesIgnored) return;
  closedPipesIgnored = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
}

/** Flags whose value may be negative: `--amount -1` is read as `--amount=-1`. */
const SIGNED_FLAGS = new Set(['--amount']);

function joinSignedValues(args: readonly string[]): string[] {
  const joined: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const next = args[index + 1];
    if (SIGNED_FLAGS.has(arg) && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      index++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

type ParseOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

/** The command's flags as parseArgs takes them (type, short, multiple). */
function parseOptions(spec: CommandSpec): ParseOptions {
  const options: ParseOptions = {};
  for (const [flag, { type, short, multiple }] of Object.entries(flagsOf(spec))) {
    options[flag] = {
      type,
      ...(short === undefined ? {} : { short }),
      ...(multiple === undefined ? {} : { multiple }),
    };
  }
  return options;
}

/** The command named by the first one or two words, and the arguments after them. */
function resolveCommand(
  argv: readonly string[],
): { spec: CommandSpec; rest: string[] } | { unknown: string } {
  const [first = '', second, ...others] = argv;
  if (COMMAND_GROUPS.has(first)) {
    const spec = second === undefined ? undefined : findCommand(`${first} ${second}`);
    if (spec !== undefined) return { spec, rest: others };
    // A group that is a command of its own (`events`, `events prune`) takes its own flags.
    const own = findCommand(first);
    if (own !== undefined) return { spec: own, rest: argv.slice(1) };
    return { unknown: second === undefined ? first : `${first} ${second}` };
  }
  const spec = findCommand(first);
  return spec === undefined ? { unknown: first } : { spec, rest: argv.slice(1) };
}

export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExitCode> {
  ignoreClosedPipes();
  const out = createOutput({ env });
  const [name, topic] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    usage(out);
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    const { packageVersion } = await import('./version.js');
    out.line(`governor ${packageVersion()}`);
    return EXIT.OK;
  }
  if (name === 'help') {
    if (topic === undefined) {
      usage(out);
      return EXIT.OK;
    }
    return await printHelpFor(out, argv.slice(1));
  }
  const found = resolveCommand(argv);
  if ('unknown' in found) {
    const group = COMMAND_GROUPS.has(found.unknown)
      ? `; ${found.unknown} takes a subcommand: ${COMMANDS.filter((c) =>
          c.name.startsWith(`${found.unknown} `),
        )
          .map((c) => c.name)
          .join(', ')}`
      : ' (governor --help lists them)';
    printError(out, null, `unknown command "${displayText(found.unknown)}"${group}`);
    return EXIT.USAGE;
  }
  const { spec, rest } = found;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: joinSignedValues(rest),
      options: parseOptions(spec),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    printError(
      out,
      spec.name,
      flagParseMessage(error),
      `usage: governor ${spec.usage}   (governor help ${spec.name})`,
    );
    return EXIT.USAGE;
  }
  if (parsed.values.help === true) {
    const { commandHelp } = await import('./help.js');
    commandHelp(out, spec);
    return EXIT.OK;
  }
  const context: CommandContext = {
    out,
    values: parsed.values as CommandContext['values'],
    positionals: parsed.positionals,
    env,
    json: parsed.values.json === true,
  };
  try {
    const run = await spec.load();
    return await run(context);
  } catch (error) {
    const code = exitCodeFor(error);
    const message = describeError(error);
    if (context.json) out.error(toJson({ error: message, exitCode: code }));
    else {
      // A core message may already name the action ("events prune: ..."): name it once.
      const text = plainMessage(error);
      const own = text.startsWith(`${spec.name}: `) ? text.slice(spec.name.length + 2) : text;
      printError(out, spec.name, own, error instanceof CliError ? error.usage : null);
    }
    if (code === EXIT.FAILURE && !(error instanceof CliError) && env.GOVERNOR_DEBUG === '1') {
      out.error((error as Error).stack ?? '');
    }
    return code;
  }
}

async function printHelpFor(out: Output, words: readonly string[]): Promise<ExitCode> {
  const { commandHelp } = await import('./help.js');
  const found = resolveCommand(words);
  if ('unknown' in found) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${found.unknown} `));
    if (group.length > 0) {
      for (const command of group) commandHelp(out, command);
      return EXIT.OK;
    }
    printError(out, 'help', `unknown command "${displayText(found.unknown)}"`);
    return EXIT.USAGE;
  }
  commandHelp(out, found.spec);
  // A command that is also a group (`events`): its subcommands follow (`events prune`).
  if (words.length === 1 && COMMAND_GROUPS.has(found.spec.name)) {
    for (const command of COMMANDS.filter((c) => c.name.startsWith(`${found.spec.name} `))) {
      out.line();
      commandHelp(out, command);
    }
  }
  return EXIT.OK;
}
