/**
 * The root pino logger and its per-component children. Library code never uses `console`;
 * an embedding program passes its own pino logger or gets a silent one by default.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

/** A logger that writes JSON to stderr at `level` (default from GOVERNOR_LOG_LEVEL or 'info'). */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'governor',
      level: options.level ?? process.env.GOVERNOR_LOG_LEVEL ?? 'info',
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that drops everything: the default for embedded use and for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export function componentLogger(root: Logger, component: string): Logger {
  return root.child({ component });
}
