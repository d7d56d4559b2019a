/**
 * The server-sent events behind the status page (`GET /api/health/stream`): a bounded set of
 * clients that receive the page's view on connect, after every mode change and every few
 * seconds. Broadcasts run after the governor's call stack unwinds, never inside it.
 */
import type { ServerResponse } from 'node:http';

/** At most this many streams at once; the next one is refused with 503. */
export const STREAM_CLIENTS_MAX = 32;
/** A view is pushed to every client this often, mode change or not. */
export const STREAM_PUSH_INTERVAL_MS = 2_000;
/** A client whose unsent output grows beyond this is too slow and is dropped. */
export const STREAM_BUFFER_BYTES_MAX = 1_048_576;
/** How long a browser waits before reconnecting after the stream drops. */
export const STREAM_RETRY_MS = 2_000;

export const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  'x-accel-buffering': 'no',
} as const;

export class StatusStream {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private broadcastQueued = false;
  private closed = false;

  /** `view` builds the JSON of one push; `onError` hears a view that could not be built. */
  constructor(
    private readonly view: () => unknown,
    private readonly onError: (error: unknown) => void,
  ) {}

  isFull(): boolean {
    return this.clients.size >= STREAM_CLIENTS_MAX;
  }

  /** Adopts a response whose head was written: sends the current view and keeps it open. */
  add(response: ServerResponse): void {
    if (this.closed || this.isFull()) {
      response.end();
      return;
    }
    this.clients.add(response);
    response.on('close', () => this.remove(response));
    response.write(`retry: ${STREAM_RETRY_MS}\n\n`);
    const message = this.message();
    if (message !== null) this.send(response, message);
    this.ensureTimer();
  }

  /** Schedules one broadcast after the current call stack (coalescing bursts of changes). */
  queueBroadcast(): void {
    if (this.broadcastQueued || this.closed || this.clients.size === 0) return;
    this.broadcastQueued = true;
    setImmediate(() => {
      this.broadcastQueued = false;
      this.broadcast();
    }).unref();
  }

  /** Ends every stream and stops the timer. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const response of this.clients) response.end();
    this.clients.clear();
  }

  private broadcast(): void {
    if (this.closed || this.clients.size === 0) return;
    const message = this.message();
    if (message === null) return;
    for (const response of this.clients) this.send(response, message);
  }

  private message(): string | null {
    try {
      return `event: status\ndata: ${JSON.stringify(this.view())}\n\n`;
    } catch (error) {
      this.onError(error);
      return null;
    }
  }

  private send(response: ServerResponse, message: string): void {
    if (response.writableLength > STREAM_BUFFER_BYTES_MAX) {
      response.destroy();
      return;
    }
    response.write(message);
  }

  private remove(response: ServerResponse): void {
    this.clients.delete(response);
    if (this.clients.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private ensureTimer(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.broadcast(), STREAM_PUSH_INTERVAL_MS);
    this.timer.unref();
  }
}
