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

/**
 * A child of `root` for `component`. Every line carries exactly one `component` key: under a
 * logger that already has one (`governor`), the child's value is the path (`governor.alerts`).
 * pino appends a child's bindings to its parent's, so a plain child would write the key twice
 * in one line, which strict JSON parsers refuse; here the inherited bindings are rewritten
 * without it, through `pino.symbols` (pino's documented hook for such integrations).
 */
export function componentLogger(root: Logger, component: string): Logger {
  const outer: unknown = root.bindings().component;
  if (outer === undefined) return root.child({ component });
  const path = typeof outer === 'string' ? `${outer}.${component}` : component;
  const child = root.child({});
  const internals = child as unknown as Record<symbol, unknown>;
  const chindings = internals[pino.symbols.chindingsSym];
  // Each binding is `,"key":<JSON>`; should pino change that, the logger test fails.
  if (typeof chindings !== 'string') return root.child({ component: path });
  const bindings = JSON.parse(`{${chindings.slice(1)}}`) as Record<string, unknown>;
  delete bindings.component;
  bindings.component = path;
  internals[pino.symbols.chindingsSym] = Object.entries(bindings)
    .map(([key, value]) => `,${JSON.stringify(key)}:${JSON.stringify(value)}`)
    .join('');
  return child;
}
