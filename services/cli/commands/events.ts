/**
 * `governor events [--limit N] [--follow] [--json]`: the newest events of the log (read-only),
 * then, with --follow, new ones as they are appended (polled, in bounded pages) until Ctrl-C.
 */
import type { StoredEvent } from '../../../persistence/index.js';
import { displayText } from '../../display-text.js';
import {
  booleanFlag,
  type CommandContext,
  openReadOnly,
  resolveConfig,
  stringFlag,
} from '../context.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { type Output, toJson } from '../output.js';

export const EVENTS_LIMIT_DEFAULT = 20;
export const EVENTS_LIMIT_MAX = 10_000;
/** --follow polls this often, reading at most FOLLOW_PAGE_EVENTS per poll. */
export const FOLLOW_POLL_MS = 500;
export const FOLLOW_PAGE_EVENTS = 1_000;

/** Prints one event: NDJSON with `json`, else one line whatever its type and reason hold. */
export function printEvent(out: Output, event: StoredEvent, json: boolean): void {
  if (json) {
    out.line(toJson(event));
    return;
  }
  const shownType = displayText(event.eventType);
  const type = event.eventType === 'SYSTEM_SHUTDOWN' ? out.paint('red', shownType) : shownType;
  out.line(
    `${String(event.seq).padStart(7)}  ${displayText(event.timestamp)}  ${type}  ${out.paint('grey', displayText(event.reason))}`,
  );
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return EVENTS_LIMIT_DEFAULT;
  const limit = Number(text);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > EVENTS_LIMIT_MAX) {
    throw new CliError(EXIT.USAGE, `--limit: expected an integer from 1 to ${EVENTS_LIMIT_MAX}`);
  }
  return limit;
}

export async function eventsCommand(context: CommandContext): Promise<ExitCode> {
  const limit = parseLimit(stringFlag(context, 'limit'));
  const config = resolveConfig(context);
  const store = openReadOnly(config.dbPath);
  let stopped = false;
  const stop = (): void => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const headSeq = store.events.head()?.seq ?? 0;
    let next = Math.max(1, headSeq - limit + 1);
    if (headSeq > 0) {
      for (const event of store.events.readPage(next, limit))
        printEvent(context.out, event, context.json);
      next = headSeq + 1;
    }
    // --follow ends when the reader of stdout goes away (`| head`), as on Ctrl-C.
    while (booleanFlag(context, 'follow') && !stopped && !context.out.closed) {
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
      for (const event of store.events.readPage(next, FOLLOW_PAGE_EVENTS)) {
        printEvent(context.out, event, context.json);
        next = event.seq + 1;
      }
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    store.close();
  }
  return EXIT.OK;
}
