/**
 * The `governor` commands the command line prints for an operator to paste (a refusal's "To
 * restart anyway", an alert's recommended action, the demo's advice, a "next:" line), built by
 * one function: each names the database by its absolute path (and the config file, when one was
 * read), every value shell-quoted, so that it works pasted as is in any directory.
 */
import { resolve } from 'node:path';

/** Where the printing command found its database and configuration. */
export interface CommandLocation {
  /** Absolute. */
  readonly dbPath: string;
  /** Absolute, or null when no config file was read. */
  readonly configPath: string | null;
}

/** A piece of shell text printed as it is (a placeholder, a command substitution). */
export interface ShellText {
  readonly shell: string;
}

/** The operator's name as a shell fills it in: `id -un` has a value where `$USER` is empty. */
export const OPERATOR_NAME: ShellText = { shell: '"$(id -un)"' };
/** Placeholders the operator replaces (printed unquoted, valid as they are). */
export const PLACEHOLDER = {
  reason: { shell: 'TEXT' },
  pool: { shell: 'ID' },
  account: { shell: 'ID' },
  amount: { shell: 'MINOR' },
} as const satisfies Record<string, ShellText>;

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** `word` as one shell word: unchanged when it holds only safe characters, else single-quoted. */
export function shellQuote(word: string): string {
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The location of a resolved configuration: its database and config file, absolute. */
export function commandLocation(config: {
  readonly dbPath: string;
  readonly configPath: string | null;
}): CommandLocation {
  return {
    dbPath: resolve(config.dbPath),
    configPath: config.configPath === null ? null : resolve(config.configPath),
  };
}

/**
 * `governor COMMAND --db DB [--config FILE] ARGS...`: every string argument shell-quoted, a
 * `ShellText` printed as it is. The one builder of every command the command line prints.
 */
export function governorCommand(
  location: CommandLocation,
  command: string,
  args: readonly (string | ShellText)[] = [],
): string {
  const words = [
    'governor',
    command,
    '--db',
    shellQuote(location.dbPath),
    ...(location.configPath === null ? [] : ['--config', shellQuote(location.configPath)]),
    ...args.map((arg) => (typeof arg === 'string' ? shellQuote(arg) : arg.shell)),
  ];
  return words.join(' ');
}

/** The operator commands printed in refusals and outcomes, for this location. */
export function nextCommands(location: CommandLocation): {
  readonly restart: string;
  readonly restartForced: string;
  readonly resume: string;
  readonly adjust: string;
  readonly alerts: string;
  readonly status: string;
  readonly verify: string;
} {
  const who = ['--operator', OPERATOR_NAME, '--reason', PLACEHOLDER.reason];
  return {
    restart: governorCommand(location, 'restart', who),
    restartForced: governorCommand(location, 'restart', [...who, '--force']),
    resume: governorCommand(location, 'resume', who),
    adjust: governorCommand(location, 'capital adjust', [
      '--pool',
      PLACEHOLDER.pool,
      '--account',
      PLACEHOLDER.account,
      '--amount',
      PLACEHOLDER.amount,
      ...who,
    ]),
    alerts: governorCommand(location, 'alerts'),
    status: governorCommand(location, 'status'),
    verify: governorCommand(location, 'verify'),
  };
}

/**
 * The first words of governor's two-word commands (`capital adjust`, `config check`, `events
 * prune`): the command table's groups (a test holds the two equal; the table's modules import
 * this file, so it cannot import the table).
 */
export const COMMAND_GROUP_WORDS: ReadonlySet<string> = new Set([
  'capital',
  'config',
  'events',
  'fleet',
  'venues',
]);
const COMMAND_WORD = /^[a-z]+$/;
/** A command quoted in a text written without a location: `governor restart --operator NAME ...`. */
const QUOTED_COMMAND = /`governor ([^`]+)`/g;

function dropConfigPlaceholder(words: string[], location: CommandLocation): string[] {
  const at = words.findIndex((word, index) => word === '--config' && words[index + 1] === 'FILE');
  if (at === -1 || location.configPath === null) return words;
  return [...words.slice(0, at), ...words.slice(at + 2)];
}

/**
 * A text from the library (an alert's recommended action, a violation's) with each quoted
 * `governor ...` command rebuilt by `governorCommand` for this location; an operator named
 * NAME becomes `"$(id -un)"`. The other words are the library's own placeholders, kept.
 */
export function locateCommands(text: string, location: CommandLocation): string {
  return text.replace(QUOTED_COMMAND, (_match, inner: string) => {
    const words = inner.split(' ').filter((word) => word !== '');
    const [first = '', second = ''] = words;
    // Not a command (a title such as `governor · …`): left as it is.
    if (!COMMAND_WORD.test(first)) return `\`governor ${inner}\``;
    const twoWords = COMMAND_GROUP_WORDS.has(first) && COMMAND_WORD.test(second);
    const command = twoWords ? `${first} ${second}` : first;
    // The location names the config file when one was read: a `--config FILE` placeholder then goes.
    const rest = dropConfigPlaceholder(words.slice(twoWords ? 2 : 1), location);
    const args = rest.map(
      (word, index): ShellText =>
        word === 'NAME' && rest[index - 1] === '--operator' ? OPERATOR_NAME : { shell: word },
    );
    return `\`${governorCommand(location, command, args)}\``;
  });
}
