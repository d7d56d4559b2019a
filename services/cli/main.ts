/**
 * The `governor` command line: parses the command and its flags (node:util parseArgs, strict),
 * runs the command, and turns any error into one line on stderr and a documented exit code.
 */
import { parseArgs } from 'node:util';
import { displayText } from '../display-text.js';
import { ackCommand, alertsCommand } from './commands/alerts.js';
import { diagramCommand } from './commands/diagram.js';
import { eventsCommand } from './commands/events.js';
import { operatorCommand } from './commands/operator.js';
import { runCommand } from './commands/run.js';
import { statusCommand } from './commands/status.js';
import { verifyCommand } from './commands/verify.js';
import type { CommandContext } from './context.js';
import { CliError, EXIT, type ExitCode, exitCodeFor } from './exit-codes.js';
import { createOutput, type Output, toJson } from './output.js';

type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string };

const COMMON: Record<string, OptionSpec> = {
  db: { type: 'string' },
  config: { type: 'string' },
  socket: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};
const OPERATOR: Record<string, OptionSpec> = {
  operator: { type: 'string' },
  reason: { type: 'string' },
};

interface CommandSpec {
  readonly summary: string;
  readonly options: Record<string, OptionSpec>;
  readonly run: (context: CommandContext) => Promise<ExitCode>;
}

const COMMANDS: Record<string, CommandSpec> = {
  run: {
    summary:
      'run [--demo] [--demo-fault market-stall|error-storm|capital-drift|heartbeat-stall] [--api-host H] [--api-port P] [--no-api] [--desired-mode M] [--threshold NAME=MS]... [--log-level L]',
    options: {
      demo: { type: 'boolean' },
      'demo-fault': { type: 'string' },
      'api-host': { type: 'string' },
      'api-port': { type: 'string' },
      'no-api': { type: 'boolean' },
      'desired-mode': { type: 'string' },
      'log-level': { type: 'string' },
      threshold: { type: 'string', multiple: true },
    },
    run: runCommand,
  },
  status: { summary: 'status [--json]', options: {}, run: statusCommand },
  verify: {
    summary: 'verify [--full] [--expect-head HASH|SEQ:HASH] [--json]',
    options: { full: { type: 'boolean' }, 'expect-head': { type: 'string' } },
    run: verifyCommand,
  },
  alerts: {
    summary: 'alerts [--all] [--json]',
    options: { all: { type: 'boolean' } },
    run: alertsCommand,
  },
  ack: {
    summary: 'ack ID --operator NAME',
    options: { operator: { type: 'string' } },
    run: ackCommand,
  },
  events: {
    summary: 'events [--limit N] [--follow] [--json]',
    options: { follow: { type: 'boolean' }, limit: { type: 'string' } },
    run: eventsCommand,
  },
  diagram: { summary: 'diagram', options: {}, run: diagramCommand },
  shutdown: {
    summary: 'shutdown --operator NAME --reason TEXT   (the kill switch)',
    options: OPERATOR,
    run: (c) => operatorCommand(c, 'shutdown'),
  },
  observe: {
    summary: 'observe --operator NAME --reason TEXT    (AGGRESSIVE -> OBSERVE_ONLY)',
    options: OPERATOR,
    run: (c) => operatorCommand(c, 'observe'),
  },
  resume: {
    summary: 'resume --operator NAME --reason TEXT     (OBSERVE_ONLY -> checks -> AGGRESSIVE)',
    options: OPERATOR,
    run: (c) => operatorCommand(c, 'resume'),
  },
  restart: {
    summary: 'restart --operator NAME --reason TEXT    (clears the SHUTDOWN latch)',
    options: OPERATOR,
    run: (c) => operatorCommand(c, 'restart'),
  },
};

function usage(out: Output): void {
  out.line(
    'usage: governor COMMAND [flags]   (every command: --db PATH --config FILE --socket PATH --json)',
  );
  out.line();
  for (const spec of Object.values(COMMANDS)) out.line(`  governor ${spec.summary}`);
  out.line();
  out.line(
    'exit codes: 0 ok, 1 usage, 2 refused/invalid, 3 needs a running owner, 4 integrity failure, 5 not found, 6 failure, 7 the owner did not confirm',
  );
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

export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExitCode> {
  ignoreClosedPipes();
  const out = createOutput({ env });
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    usage(out);
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const spec = COMMANDS[name];
  if (spec === undefined) {
    out.error(`governor: unknown command "${displayText(name)}" (governor --help lists them)`);
    return EXIT.USAGE;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: { ...COMMON, ...spec.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    out.error(`governor ${name}: ${displayText((error as Error).message)}`);
    out.error(`usage: governor ${spec.summary}`);
    return EXIT.USAGE;
  }
  if (parsed.values.help === true) {
    out.line(`usage: governor ${spec.summary}`);
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
    return await spec.run(context);
  } catch (error) {
    const code = exitCodeFor(error);
    const message = error instanceof Error ? error.message : String(error);
    if (context.json) out.error(toJson({ error: message, exitCode: code }));
    else out.error(`governor ${name}: ${displayText(message)}`);
    if (code === EXIT.FAILURE && !(error instanceof CliError) && env.GOVERNOR_DEBUG === '1') {
      out.error((error as Error).stack ?? '');
    }
    return code;
  }
}
