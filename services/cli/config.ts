/**
 * The daemon's configuration, complete: the layers (config-layers.ts) merged and checked, and the
 * alert sinks checked by building them, every error naming its key (GOV_INVALID_CONFIG). The
 * commands resolve through context.ts, which loads the sinks only when some are configured.
 */
import { createAlertSinks } from './alerts-config.js';
import { type ConfigFlags, type DaemonConfig, resolveConfigLayers } from './config-layers.js';

export * from './config-layers.js';

/** Resolves and checks the whole configuration, alert sinks included. */
export function resolveDaemonConfig(
  flags: ConfigFlags,
  options: { env?: NodeJS.ProcessEnv; demo?: boolean; defaultConfigPath?: string } = {},
): DaemonConfig {
  const config = resolveConfigLayers(flags, options);
  createAlertSinks(config.alerts); // checks every sink now, naming the bad key; `run` builds them again
  return config;
}
