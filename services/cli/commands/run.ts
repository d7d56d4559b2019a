/**
 * `governor run`: the daemon. It checks everything it needs first (configuration, alert sinks,
 * paths, the API's port), opens the database with the terminal and configured alert sinks,
 * starts the control socket, the health API (one that cannot listen stops it, exit 2, before
 * the lifecycle starts) and (with --demo) the paper trader, runs the startup checks and then the
 * timers; under systemd it notifies READY, WATCHDOG, STATUS and STOPPING. SIGTERM or SIGINT stop
 * it gracefully, final state persisted.
 */
import type { AlertSink, GovernorAlert } from '../../alerts/types.js';
import { SystemClock } from '../../clock.js';
import { displayText } from '../../display-text.js';
import type { AuthorityOptions } from '../../governor/fleet-link.js';
import { GovernanceSystem, type ModeChange } from '../../governor/governance-system.js';
import { createLogger, type Logger } from '../../logger.js';
import { createAlertSinks, TERMINAL_SINK_NAME } from '../alerts-config.js';
import type { DaemonConfig } from '../config.js';
import {
  booleanFlag,
  type CommandContext,
  resolveConfig,
  socketPathFor,
  stringFlag,
} from '../context.js';
import { type ControlServer, startControlServer } from '../control-channel.js';
import { daemonControlHandler } from '../daemon-control.js';
import { apiBindError, checkApiPortFree, checkDaemonPaths } from '../daemon-prerequisites.js';
import {
  createDemoExchange,
  DEMO_FAULTS,
  type Demo,
  demoRecoveryMs,
  isDemoFault,
  startDemo,
} from '../demo.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { type RunningApi, startHealthApi } from '../health-api.js';
import { type Output, stateColour } from '../output.js';
import {
  type CommandLocation,
  commandLocation,
  governorCommand,
  locateCommands,
  OPERATOR_NAME,
} from '../printed-command.js';
import { systemdNotifier } from '../systemd-notify.js';
import { buildDaemonVenues } from '../venue-clients.js';

/** How often the demo prints its order counts. */
const DEMO_SUMMARY_INTERVAL_MS = 5_000;

/** One line per mode change, whatever its reason holds (an exchange's error message, say). */
export function printModeChange(out: Output, change: ModeChange): void {
  const detail = change.trigger ?? change.cause;
  const why = change.reason === null ? '' : `: ${displayText(change.reason)}`;
  out.line(
    `${change.at.toISOString()}  ${change.from} -> ${out.paint(stateColour(change.to), change.to)}${detail === null ? '' : ` (${displayText(detail)})`}${why}`,
  );
}

/**
 * The sink that prints each alert on the daemon's terminal, its texts through `displayText`,
 * the commands it names for this daemon's database (and config file).
 */
export function terminalSink(out: Output, location: CommandLocation): AlertSink {
  return {
    name: TERMINAL_SINK_NAME,
    deliver(alert: GovernorAlert): void {
      const id = displayText(alert.alertId);
      out.line(out.paint('red', `ALERT ${alert.severity}: ${displayText(alert.title)}`));
      out.line(`  message  ${displayText(alert.message)}`);
      out.line(`  cause    ${displayText(alert.rootCause)}`);
      out.line(`  action   ${displayText(locateCommands(alert.recommendedAction, location))}`);
      const ack = governorCommand(location, 'ack', [alert.alertId, '--operator', OPERATOR_NAME]);
      out.line(`  id       ${id}  (${displayText(ack)})`);
    },
  };
}

/** The state as systemd's STATUS= shows it (`systemctl status governor`). */
function statusText(governance: GovernanceSystem): string {
  const state = governance.getState();
  const cause = governance.getCause();
  const why = cause.trigger ?? cause.cause;
  return `${state}${why === null ? '' : ` (${why})`}`;
}

/**
 * Whether the watchdog may be petted: heartbeats succeed (the event loop runs and the event log
 * takes writes). In SHUTDOWN nothing trades and the heartbeat may never have started (a latched
 * start): a timer that fires is all the watchdog checks, so systemd does not restart it in a loop.
 */
export function watchdogAlive(governance: GovernanceSystem): boolean {
  if (governance.getState() === 'SHUTDOWN') return true;
  return governance.heartbeatAgeMs() <= governance.thresholds.heartbeatLossMs;
}

/** The health API, or the error that stops the daemon (exit 2) when it cannot listen. */
async function startApiOrRefuse(
  governance: GovernanceSystem,
  config: DaemonConfig,
  logger: Logger,
): Promise<RunningApi | null> {
  try {
    return await startHealthApi(governance, config.api, logger);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && !code.startsWith('GOV_')) {
      throw apiBindError(config, error as NodeJS.ErrnoException);
    }
    throw error;
  }
}

/** The GovernanceSystem's `authority` option from the configuration's (flags over the file). */
function authorityOption(config: DaemonConfig, env: NodeJS.ProcessEnv): AuthorityOptions | null {
  const authority = config.authority;
  if (authority === null) {
    // GOVERNOR_AUTHORITY alone: the host was meant to obey a fleet, but names no scope.
    if (env.GOVERNOR_AUTHORITY !== undefined && env.GOVERNOR_AUTHORITY !== '') {
      throw new CliError(
        EXIT.REFUSED,
        'refused: GOVERNOR_AUTHORITY is set but no fleet scope: give --scope S or authority.scopes in the config file (or unset it); nothing was started',
      );
    }
    return null;
  }
  return {
    ...(authority.url === null ? {} : { url: authority.url }),
    ...(authority.host === null ? {} : { host: authority.host }),
    scopes: authority.scopes,
    leaseMs: authority.leaseMs,
    authorityLossMs: authority.authorityLossMs,
  };
}

export async function runCommand(context: CommandContext): Promise<ExitCode> {
  const demoFault = stringFlag(context, 'demo-fault');
  const demoWanted = booleanFlag(context, 'demo') || demoFault !== undefined;
  if (demoFault !== undefined && !isDemoFault(demoFault)) {
    throw new CliError(EXIT.USAGE, `--demo-fault: expected one of ${DEMO_FAULTS.join(', ')}`);
  }
  // Everything the daemon needs is checked before the database is opened: a problem exits 2
  // with nothing started and nothing written.
  const config = await resolveConfig(context, demoWanted);
  const authority = authorityOption(config, context.env);
  const recoveryMs = demoWanted ? demoRecoveryMs(context.env) : null;
  checkDaemonPaths(config);
  const configuredSinks = createAlertSinks(config.alerts);
  await checkApiPortFree(config);
  // The config's venues (ccxt loaded only when there are some): a venue without its credentials
  // stops the daemon here, exit 2, before anything is opened.
  const { venues, release: releaseVenues } = await buildDaemonVenues(config.venues, context.env);
  const socketPath = socketPathFor(config);
  const location = commandLocation(config);
  const { out } = context;
  const logger = createLogger({ level: config.logLevel });
  const notifier = systemdNotifier({
    env: context.env,
    onError: (error) => {
      logger.error({ err: error }, 'systemd notification failed');
      out.error(`systemd notification failed: ${displayText(error.message)}`);
    },
  });
  const clock = new SystemClock();
  // The demo's exchange is one of governor's venues: on SHUTDOWN governor cancels its resting orders.
  const demoExchange = demoWanted ? createDemoExchange() : null;
  // One owner per database: a second one is refused here (GOV_DATABASE_OWNED, exit 2), naming it.
  const governance = new GovernanceSystem({
    dbPath: config.dbPath,
    thresholds: config.thresholds,
    desiredMode: config.desiredMode,
    clock,
    logger,
    alertSinks: [terminalSink(out, location), ...configuredSinks],
    handleProcessErrors: true,
    ...(authority === null ? {} : { authority }),
    venues: demoExchange === null ? venues : [...venues, demoExchange],
  });
  let demo: Demo | null = null;
  let ready = false;
  governance.onModeChange((change) => {
    printModeChange(out, change);
    // An operator restart (by any way): the simulated world recovers.
    if (change.to === 'STARTING') demo?.clearFault();
    demo?.onModeChange(change.to);
    if (change.to === 'SHUTDOWN') demo?.reportFlat((text) => out.line(text));
    if (ready) notifier.notify({ STATUS: statusText(governance) });
  });
  let control: ControlServer | null = null;
  let api: RunningApi | null = null;
  const keepAlive = setInterval(() => {}, 3_600_000);
  let summary: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | null = null;
  const stop = (signal: string): Promise<void> => {
    stopping ??= (async () => {
      notifier.notify({ STOPPING: '1', STATUS: `stopping (${signal})` });
      out.line(`${signal}: stopping (final state ${governance.getState()} persisted)`);
      clearInterval(keepAlive);
      clearInterval(summary);
      demo?.stop();
      await Promise.allSettled([control?.close(), api?.close()]);
      governance.close();
      // A planned stop disarms the venues' switches: those requests may finish first.
      await releaseVenues(config.thresholds.adapterPingTimeoutMs);
      await notifier.close();
    })();
    return stopping;
  };
  const stopped = new Promise<void>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => void stop(signal).then(resolve));
    }
  });
  try {
    control = await startControlServer(socketPath, daemonControlHandler({ governance }));
    out.line(
      `governor daemon pid ${process.pid}: database ${config.dbPath}, control socket ${socketPath}`,
    );
    out.line(
      `alert sinks: ${[TERMINAL_SINK_NAME, ...configuredSinks.map((sink) => sink.name)].join(', ')}`,
    );
    // Before the lifecycle: an API that cannot listen stops the daemon while the gate is shut.
    api = await startApiOrRefuse(governance, config, logger);
    out.line(api === null ? 'health API: off' : `health API: ${api.url}`);
    if (demoExchange !== null) {
      demo = startDemo(governance, clock, { recoveryMs, location, exchange: demoExchange });
    }
    const adapters = demo === null ? [] : [{ name: demo.exchange.name, ping: demo.exchange.ping }];
    const passed = await governance.runStartupChecks(adapters);
    const authorization = governance.authorize();
    out.line(
      `startup checks ${passed ? 'passed' : 'did not pass'}: ${out.paint(stateColour(governance.getState()), governance.getState())}${authorization.allowed ? '' : ` (${displayText(authorization.reason)})`}`,
    );
    ready = true;
    notifier.notify({ READY: '1', STATUS: statusText(governance) });
    notifier.startWatchdog(() => watchdogAlive(governance));
    if (demo !== null) {
      const running = demo;
      summary = setInterval(() => {
        const s = running.trader.stats();
        out.line(
          `demo: ${s.placed} orders filled, ${s.blocked} blocked by the gate, ${s.failed} rejected by the exchange; ${s.errorsReported} errors reported to governor; cash ${s.cashMinor} cents; ${running.exchange.restingOrders().length} resting at the exchange`,
        );
      }, DEMO_SUMMARY_INTERVAL_MS);
      if (demoFault !== undefined && isDemoFault(demoFault)) {
        running.scheduleFault(demoFault, (text) => out.line(out.paint('magenta', text)));
      }
    }
  } catch (error) {
    await stop('startup failure');
    throw error;
  }
  await stopped;
  return EXIT.OK;
}
