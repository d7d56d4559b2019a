/**
 * The command line's only writer to stdout and stderr: colour on a terminal (unless NO_COLOR),
 * plain text when piped, aligned tables, and JSON for `--json`. Library code never prints.
 * Text from the database, the daemon or an exchange goes through `displayText` before it is
 * printed; when the reader of a pipe goes away (EPIPE) output stops quietly.
 */
import { escapeJsonForDisplay } from '../display-text.js';

const COLOURS = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  grey: 90,
  bold: 1,
} as const;

export type Colour = keyof typeof COLOURS;

export interface Output {
  /** True when stdout is a terminal. */
  readonly tty: boolean;
  readonly colour: boolean;
  /** True once the reader of stdout went away (EPIPE, e.g. `| head -3`): output is dropped. */
  readonly closed: boolean;
  line(text?: string): void;
  error(text: string): void;
  paint(colour: Colour, text: string): string;
  json(value: unknown): void;
  table(rows: readonly (readonly string[])[], header: readonly string[]): void;
  /** Rewrites the current terminal line (progress bars); a no-op when not a terminal. */
  status(text: string): void;
}

/**
 * JSON.stringify that writes bigint as a decimal string and Date as ISO-8601, and escapes the
 * characters JSON.stringify leaves raw that a terminal would act on (DEL, C1, bidi and
 * zero-width characters, U+2028, U+2029) as `\uXXXX`: the same value for any JSON parser.
 */
export function toJson(value: unknown, indent?: number): string {
  return escapeJsonForDisplay(
    JSON.stringify(
      value,
      (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item),
      indent,
    ),
  );
}

/** Streams whose reader went away (EPIPE): nothing more is written to them. */
const closedStreams = new WeakSet<NodeJS.WritableStream>();
/** Streams that already have the EPIPE listener (createOutput may run more than once). */
const watchedStreams = new WeakSet<NodeJS.WritableStream>();

/**
 * Stops writing to `stream` once its reader is gone, as well-behaved Unix tools do under
 * `| head`; any other write error is thrown, as it would be without the listener.
 */
function watchForClosedReader(stream: NodeJS.WritableStream): void {
  if (watchedStreams.has(stream)) return;
  watchedStreams.add(stream);
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closedStreams.add(stream);
  });
}

function writeTo(stream: NodeJS.WritableStream, text: string): void {
  if (!closedStreams.has(stream)) stream.write(text);
}

const ESCAPE = String.fromCharCode(27);
const ESCAPES = new RegExp(`${ESCAPE}\\[[0-9;]*m`, 'g');

function visibleLength(text: string): number {
  return text.replace(ESCAPES, '').length;
}

export function createOutput(
  options: {
    stdout?: NodeJS.WriteStream;
    stderr?: NodeJS.WriteStream;
    env?: NodeJS.ProcessEnv;
  } = {},
): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const tty = stdout.isTTY === true;
  const colour = tty && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
  const paint = (name: Colour, text: string): string =>
    colour ? `\u001b[${COLOURS[name]}m${text}\u001b[0m` : text;
  watchForClosedReader(stdout);
  watchForClosedReader(stderr);
  return {
    tty,
    colour,
    get closed() {
      return closedStreams.has(stdout);
    },
    paint,
    line: (text = '') => writeTo(stdout, `${text}\n`),
    error: (text) => writeTo(stderr, `${text}\n`),
    json: (value) => writeTo(stdout, `${toJson(value, tty ? 2 : undefined)}\n`),
    status: (text) => {
      if (tty) writeTo(stdout, `\r\u001b[2K${text}`);
    },
    table: (rows, header) => {
      const widths = header.map((title, column) =>
        Math.max(visibleLength(title), ...rows.map((row) => visibleLength(row[column] ?? ''))),
      );
      const render = (cells: readonly string[]): string =>
        cells
          .map((cell, column) =>
            column === cells.length - 1
              ? cell
              : cell + ' '.repeat((widths[column] ?? 0) - visibleLength(cell)),
          )
          .join('  ');
      writeTo(stdout, `${paint('bold', render(header))}\n`);
      for (const row of rows) writeTo(stdout, `${render(row)}\n`);
    },
  };
}

/** The colour a lifecycle state is shown in. */
export function stateColour(state: string | null): Colour {
  switch (state) {
    case 'AGGRESSIVE':
      return 'green';
    case 'OBSERVE_ONLY':
      return 'yellow';
    case 'SHUTDOWN':
      return 'red';
    default:
      return 'cyan';
  }
}
