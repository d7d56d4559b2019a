/**
 * What every command receives: the parsed flags, the output, and helpers to find the database
 * and the control socket (flags > env > config file > defaults), open the database read-only
 * (the persistence layer, and SQLite with it, is loaded only then) and name where an operator
 * request goes.
 */
import { existsSync, statSync } from 'node:fs';
import type { Store, StoreCore } from '../../persistence/index.js';
import { formatDuration } from '../clock.js';
import type { TemporaryOwnerConfig } from '../governor/ownership/index.js';
import { hasAlertSinks } from './alerts-layers.js';
import { type ConfigFlags, type DaemonConfig, resolveConfigLayers } from './config-layers.js';
import { defaultSocketPath } from './control-channel.js';
import { CliError, EXIT } from './exit-codes.js';
import { type Output, toJson } from './output.js';

export type FlagValue = string | boolean | string[] | undefined;

export interface CommandContext {
  readonly out: Output;
  readonly values: Readonly<Record<string, FlagValue>>;
  readonly positionals: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly json: boolean;
}

export function stringFlag(context: CommandContext, name: string): string | undefined {
  const value = context.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function booleanFlag(context: CommandContext, name: string): boolean {
  return context.values[name] === true;
}

/** The configuration flags every command shares. */
export function configFlags(context: CommandContext): ConfigFlags {
  const threshold = context.values.threshold;
  const scope = context.values.scope;
  return {
    config: stringFlag(context, 'config'),
    db: stringFlag(context, 'db'),
    desiredMode: stringFlag(context, 'desired-mode'),
    logLevel: stringFlag(context, 'log-level'),
    apiHost: stringFlag(context, 'api-host'),
    apiPort: stringFlag(context, 'api-port'),
    noApi: booleanFlag(context, 'no-api'),
    socket: stringFlag(context, 'socket'),
    threshold: Array.isArray(threshold) ? threshold : undefined,
    authority: stringFlag(context, 'authority'),
    scope: Array.isArray(scope) ? scope : typeof scope === 'string' ? [scope] : undefined,
    fleetHost: stringFlag(context, 'fleet-host'),
    leaseMs: stringFlag(context, 'lease-ms'),
    authorityLossMs: stringFlag(context, 'authority-loss-ms'),
  };
}

/**
 * The configuration as `resolveDaemonConfig` checks it; the alert sink modules are loaded (to
 * check their options by building them) only when some sink is configured.
 */
export async function resolveConfig(context: CommandContext, demo = false): Promise<DaemonConfig> {
  const config = resolveConfigLayers(configFlags(context), { env: context.env, demo });
  refuseDirectoryAsDatabase(context, config);
  if (hasAlertSinks(config.alerts)) {
    const { createAlertSinks } = await import('./alerts-config.js');
    createAlertSinks(config.alerts);
  }
  return config;
}

/**
 * A database path that names a directory is refused (exit 2) by every command, saying where the
 * path came from, before any command reads or creates anything.
 */
function refuseDirectoryAsDatabase(context: CommandContext, config: DaemonConfig): void {
  if (statSync(config.dbPath, { throwIfNoEntry: false })?.isDirectory() !== true) return;
  const fromEnv = context.env.GOVERNOR_DB !== undefined && context.env.GOVERNOR_DB !== '';
  const source =
    stringFlag(context, 'db') !== undefined
      ? '--db'
      : fromEnv
        ? 'GOVERNOR_DB'
        : config.configPath !== null
          ? `db (in ${config.configPath})`
          : 'the database';
  throw new CliError(
    EXIT.REFUSED,
    `${source} ${config.dbPath} is a directory, not a database file`,
  );
}

export function socketPathFor(config: DaemonConfig): string {
  return config.controlSocket ?? defaultSocketPath(config.dbPath);
}

/** NOT_FOUND when there is no database file at `dbPath`. */
export function requireDatabase(dbPath: string): void {
  if (!existsSync(dbPath)) {
    throw new CliError(
      EXIT.NOT_FOUND,
      `no governor database at ${dbPath} (use --db PATH or GOVERNOR_DB)`,
    );
  }
}

/**
 * Where the command line sends an operator request (`sendOwnerRequest`): the configured
 * database, NOT_FOUND when there is no file, and the configured alert sinks, loaded only when
 * this command must act as the owner itself.
 */
export function ownerRequestTarget(config: DaemonConfig): TemporaryOwnerConfig {
  requireDatabase(config.dbPath);
  return {
    dbPath: config.dbPath,
    thresholds: config.thresholds,
    desiredMode: config.desiredMode,
    createAlertSinks: async () =>
      (await import('./alerts-config.js')).createAlertSinks(config.alerts),
  };
}

/**
 * Opens the database read-only; NOT_FOUND when there is no file. When this user may read the
 * file but not write beside it, the store reads a private copy, and the command says so on
 * stderr (`store.readNote`: what the copy may lack).
 */
export async function openReadOnly(dbPath: string, context?: CommandContext): Promise<Store> {
  requireDatabase(dbPath);
  const { openDatabaseReader } = await import('../governor/ownership/index.js');
  return withReadNote(openDatabaseReader(dbPath), context);
}

/**
 * `openReadOnly` with the core repositories only (the event log, system state, alerts, venues):
 * what `status` reads, without loading the modules of the others.
 */
export async function openRecordReadOnly(
  dbPath: string,
  context?: CommandContext,
): Promise<StoreCore> {
  requireDatabase(dbPath);
  const { openRecordReader } = await import('../governor/record-reader.js');
  return withReadNote(openRecordReader(dbPath), context);
}

function withReadNote<S extends StoreCore>(store: S, context: CommandContext | undefined): S {
  if (context !== undefined && store.readNote !== null) tellReadNote(context, store.readNote);
  return store;
}

/** The note of a read from a private copy, on stderr (as JSON with --json). */
export function tellReadNote(context: CommandContext, note: string): void {
  context.out.error(context.json ? toJson({ note }) : `governor: note: ${note}`);
}

/** An age for `governor status`: governor's one duration format, `never` when there is none. */
export function formatAge(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return 'never';
  return ms < 1_000 ? `${Math.round(ms)}ms` : formatDuration(ms);
}
