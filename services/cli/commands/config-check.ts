/**
 * `governor config check`: resolves the configuration exactly as `governor run` does (defaults,
 * demo profile, file, GOVERNOR_* variables, flags), checks what run checks before it starts
 * (every key, the alert sinks, the API host and token, the database directory, the control
 * socket path), and prints the effective configuration with its secrets masked. An invalid key
 * exits 2 with its name (thrown as GOV_INVALID_CONFIG; main prints it).
 */
import { createRequire } from 'node:module';
import type { AlertsConfig } from '../alerts-config.js';
import type { DaemonConfig } from '../config.js';
import { booleanFlag, type CommandContext, resolveConfig, socketPathFor } from '../context.js';
import { checkDaemonPaths } from '../daemon-prerequisites.js';
import { EXIT, type ExitCode } from '../exit-codes.js';

export const MASK = '********';

/** A URL with its password and query values masked; a Slack URL's secret path too. */
export function maskUrl(text: string, wholePath = false): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return MASK;
  }
  if (url.password !== '') url.password = MASK;
  for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, MASK);
  if (wholePath && url.pathname.length > 1) url.pathname = `/${MASK}`;
  return decodeURI(url.toString());
}

function maskHeaders(
  headers: Readonly<Record<string, string>> | undefined,
): Record<string, string> | undefined {
  if (headers === undefined) return undefined;
  return Object.fromEntries(Object.keys(headers).map((name) => [name, MASK]));
}

function maskAlerts(alerts: AlertsConfig): Record<string, unknown> {
  return {
    webhooks: alerts.webhooks.map((webhook) => ({
      ...webhook,
      url: maskUrl(webhook.url),
      ...(webhook.headers === undefined ? {} : { headers: maskHeaders(webhook.headers) }),
    })),
    alertmanager:
      alerts.alertmanager === null
        ? null
        : {
            ...alerts.alertmanager,
            url: maskUrl(alerts.alertmanager.url),
            ...(alerts.alertmanager.headers === undefined
              ? {}
              : { headers: maskHeaders(alerts.alertmanager.headers) }),
          },
    slack: alerts.slack === null ? null : { ...alerts.slack, url: maskUrl(alerts.slack.url, true) },
    pagerduty:
      alerts.pagerduty === null
        ? null
        : {
            ...alerts.pagerduty,
            routingKey: MASK,
            ...(alerts.pagerduty.url === undefined ? {} : { url: maskUrl(alerts.pagerduty.url) }),
          },
  };
}

/** The effective configuration as the file format holds it, secrets masked. */
export function maskedConfig(config: DaemonConfig): Record<string, unknown> {
  return {
    db: config.dbPath,
    desiredMode: config.desiredMode,
    logLevel: config.logLevel,
    controlSocket: socketPathFor(config),
    api: {
      enabled: config.api.enabled,
      host: config.api.host,
      port: config.api.port,
      bearerToken: config.api.bearerToken === null ? null : MASK,
    },
    thresholds: { ...config.thresholds },
    alerts: maskAlerts(config.alerts),
    // Names of environment variables, never their values: the file holds no credential.
    ...(config.venues.length === 0 ? {} : { venues: config.venues.map((venue) => ({ ...venue })) }),
    ...(config.authority === null
      ? {}
      : {
          authority: {
            ...config.authority,
            url: config.authority.url === null ? null : maskUrl(config.authority.url),
          },
        }),
  };
}

export async function configCheckCommand(context: CommandContext): Promise<ExitCode> {
  const config = await resolveConfig(context, booleanFlag(context, 'demo'));
  checkDaemonPaths(config);
  const effective = maskedConfig(config);
  if (context.json) {
    context.out.json({ ok: true, configFile: config.configPath, config: effective });
    return EXIT.OK;
  }
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  context.out.line(
    `# configuration OK; file: ${config.configPath ?? 'none (defaults, GOVERNOR_* variables and flags)'}`,
  );
  context.out.line('# the effective configuration governor run would use (secrets masked):');
  context.out.line(yaml.stringify(effective).trimEnd());
  return EXIT.OK;
}
