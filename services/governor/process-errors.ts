/**
 * The default latch on an uncaught exception: one `uncaughtExceptionMonitor` listener for the
 * process, installed while at least one GovernanceSystem watches, that tells each of them
 * synchronously (their latch reaches SQLite) before Node's own handling, which it leaves as it
 * is: the process still crashes as it would have. An unhandled rejection that Node raises as an
 * uncaught exception comes through the same door, with its origin. And the opt-in handlers
 * (`handleProcessErrors`) that keep the process running, in SHUTDOWN.
 */
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';

/** Where the exception came from: Node's `origin` argument of `uncaughtExceptionMonitor`. */
export type ExceptionOrigin = 'uncaughtException' | 'unhandledRejection';

export type ExceptionLatch = (error: unknown, origin: ExceptionOrigin) => void;

const latches = new Set<ExceptionLatch>();

function onUncaughtExceptionMonitor(error: unknown, origin: ExceptionOrigin): void {
  for (const latch of latches) {
    try {
      latch(error, origin);
    } catch {
      // A latch that fails must not stop the others, nor change how the process dies.
    }
  }
}

/**
 * Tells `latch` of every uncaught exception of this process from now on; returns the function
 * that stops it (the process listener goes when the last latch does).
 */
export function watchUncaughtExceptions(latch: ExceptionLatch): () => void {
  if (latches.size === 0) process.on('uncaughtExceptionMonitor', onUncaughtExceptionMonitor);
  latches.add(latch);
  return () => {
    if (!latches.delete(latch)) return;
    if (latches.size === 0) process.off('uncaughtExceptionMonitor', onUncaughtExceptionMonitor);
  };
}

/**
 * Installs what the options ask for: the default latch (unless `latchUncaughtExceptions` is
 * false) and, opt-in, handlers that keep the process running; each error becomes one
 * `shutdown(reason)` (UNRECOVERABLE_EXCEPTION). Returns the function that removes them all.
 */
export function installProcessErrorHandling(
  options: { readonly handleProcessErrors?: boolean; readonly latchUncaughtExceptions?: boolean },
  logger: Logger,
  shutdown: (reason: string) => void,
): () => void {
  const removers: Array<() => void> = [];
  if (options.handleProcessErrors === true) {
    const onException = (error: Error): void => {
      logger.fatal({ err: error }, 'uncaught exception');
      shutdown(`uncaught exception: ${error.message}`);
    };
    const onRejection = (reason: unknown): void => {
      logger.fatal({ err: reason }, 'unhandled rejection');
      shutdown(`unhandled rejection: ${reason instanceof Error ? reason.message : String(reason)}`);
    };
    process.on('uncaughtException', onException);
    process.on('unhandledRejection', onRejection);
    removers.push(() => {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    });
  }
  if (options.latchUncaughtExceptions !== false) {
    // Node is about to handle an uncaught exception (and, by default, to crash): latch now, in
    // this call, so the latch is in SQLite before the process dies.
    removers.push(
      watchUncaughtExceptions((error, origin) => {
        const what = origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception';
        logger.fatal({ err: error }, what);
        shutdown(`${what}: ${describeError(error)}`);
      }),
    );
  }
  return () => {
    for (const remove of removers.splice(0)) remove();
  };
}
