/**
 * The default latch on an uncaught exception: one `uncaughtExceptionMonitor` listener for the
 * process, installed while at least one GovernanceSystem watches, that tells each of them
 * synchronously (their latch reaches SQLite) before Node's own handling, which it leaves as it
 * is: the process still crashes as it would have. An unhandled rejection that Node raises as an
 * uncaught exception comes through the same door, with its origin.
 */

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
