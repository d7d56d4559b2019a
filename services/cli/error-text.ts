/**
 * How the command line prints an error: one formatter for every usage error and refusal. A
 * message of several lines (a YAML parser's code frame) prints as lines, the first after
 * `governor COMMAND: `, the others indented, each through `displayText`; node's own flag-parsing
 * messages are said in governor's words.
 */
import { displayText } from '../display-text.js';
import type { Output } from './output.js';

/** Indentation of a message's second and later lines. */
const CONTINUATION = '  ';

/** `message`'s lines (empty ones dropped) as printed after `prefix`, each escaped for display. */
export function errorLines(prefix: string, message: string): string[] {
  const lines = message.split(/\r\n|\r|\n/).filter((line) => line.trim() !== '');
  const [first = '', ...rest] = lines;
  return [
    `${prefix}${displayText(first)}`,
    ...rest.map((line) => `${CONTINUATION}${displayText(line)}`),
  ];
}

/** Prints an error of `command` (null: governor itself), then the usage line when there is one. */
export function printError(
  out: Output,
  command: string | null,
  message: string,
  usage: string | null = null,
): void {
  const prefix = command === null ? 'governor: ' : `governor ${command}: `;
  for (const line of errorLines(prefix, message)) out.error(line);
  if (usage !== null) out.error(displayText(usage));
}

/** A flag-parsing error of node:util parseArgs in governor's words (its own wording otherwise). */
export function flagParseMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { message } = error;
  const code = (error as NodeJS.ErrnoException).code;
  const flag = /^(?:Unknown option|Option) '(-[^' ]*)/.exec(message)?.[1];
  if (flag === undefined) return message;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${flag}`;
  if (/argument is ambiguous/.test(message)) {
    return `${flag} needs a value (a value that starts with a dash is written ${flag}=VALUE)`;
  }
  if (/argument missing/.test(message)) return `${flag} needs a value`;
  if (/does not take an argument/.test(message)) return `${flag} takes no value`;
  return message;
}
