/**
 * sd_notify for `governor run` under systemd (Type=notify), without native code: Node has no
 * Unix datagram sockets, so each message is sent by `systemd-notify` (the systemd package's own
 * client, present wherever systemd runs), which waits until systemd has read it. The unit needs
 * `NotifyAccess=all`, since the sender is that child. Only when NOTIFY_SOCKET is set. Messages
 * go one at a time, each child killed after a bound, the queue bounded and WATCHDOG=1 coalesced.
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** The client that sends one message (argv: `KEY=VALUE`...). */
export const NOTIFY_COMMAND = 'systemd-notify';
/** A child still running after this is killed (systemd-notify waits up to 5 s itself). */
export const NOTIFY_CHILD_TIMEOUT_MS = 10_000;
/** At most this many messages wait; beyond, the oldest STATUS is dropped, never READY or STOPPING. */
export const NOTIFY_QUEUE_MAX = 8;
/** The watchdog is petted every WATCHDOG_USEC / this (systemd's advice: at least twice per period). */
export const WATCHDOG_PETS_PER_PERIOD = 3;
/** The shortest watchdog pet interval accepted (a smaller WATCHDOG_USEC is treated as this). */
export const WATCHDOG_PET_MS_MIN = 100;

export type NotifyFields = Readonly<Record<string, string>>;

export interface SystemdNotifier {
  /** True when NOTIFY_SOCKET is set: messages are sent. */
  readonly enabled: boolean;
  /** The watchdog period from WATCHDOG_USEC (for this process), or null. */
  readonly watchdogMs: number | null;
  /** Queues one message, e.g. `{ READY: '1', STATUS: 'AGGRESSIVE' }`. */
  notify(fields: NotifyFields): void;
  /** Pets the watchdog (WATCHDOG=1) on a timer while `alive()` is true; no-op without a period. */
  startWatchdog(alive: () => boolean): void;
  /** Stops the watchdog timer and waits (bounded) for the messages already queued to leave. */
  close(): Promise<void>;
}

export interface NotifierOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Told once per kind of failure (e.g. systemd-notify missing), for the daemon's log. */
  readonly onError?: (error: Error) => void;
  /** Tests: the command to run instead of systemd-notify. */
  readonly command?: string;
}

/** The watchdog period in ms from WATCHDOG_USEC, when it is meant for this process. */
export function watchdogPeriodMs(env: NodeJS.ProcessEnv, pid = process.pid): number | null {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || !/^\d{1,15}$/.test(usec) || Number(usec) === 0) return null;
  const target = env.WATCHDOG_PID;
  if (target !== undefined && target !== '' && Number(target) !== pid) return null;
  return Math.max(WATCHDOG_PET_MS_MIN, Math.floor(Number(usec) / 1_000));
}

/** One line of `KEY=VALUE` per field; a value never holds a newline (it would start a field). */
function toArguments(fields: NotifyFields): string[] {
  return Object.entries(fields).map(
    ([key, value]) => `${key}=${value.replace(/[\r\n]+/g, ' ').slice(0, 512)}`,
  );
}

export function systemdNotifier(options: NotifierOptions = {}): SystemdNotifier {
  const env = options.env ?? process.env;
  const socket = env.NOTIFY_SOCKET;
  const enabled = socket !== undefined && socket !== '';
  const watchdogMs = enabled ? watchdogPeriodMs(env) : null;
  const command = options.command ?? NOTIFY_COMMAND;
  const queue: NotifyFields[] = [];
  const reported = new Set<string>();
  let running: ChildProcess | null = null;
  let idle: Array<() => void> = [];
  let timer: NodeJS.Timeout | undefined;

  const report = (kind: string, error: Error): void => {
    if (reported.has(kind)) return;
    reported.add(kind);
    options.onError?.(error);
  };

  const settleIdle = (): void => {
    const waiting = idle;
    idle = [];
    for (const resolve of waiting) resolve();
  };

  const next = (): void => {
    if (running !== null) return;
    const fields = queue.shift();
    if (fields === undefined) {
      settleIdle();
      return;
    }
    const child = spawn(command, toArguments(fields), {
      env: { ...env, NOTIFY_SOCKET: socket },
      stdio: 'ignore',
    });
    running = child;
    const kill = setTimeout(() => child.kill('SIGKILL'), NOTIFY_CHILD_TIMEOUT_MS);
    kill.unref();
    const done = (): void => {
      clearTimeout(kill);
      if (running === child) running = null;
      next();
    };
    child.once('error', (error) => {
      report(`spawn:${(error as NodeJS.ErrnoException).code ?? ''}`, error);
      done();
    });
    child.once('exit', (code, signal) => {
      if (code !== 0) {
        report(
          'exit',
          new Error(
            `${command} ${toArguments(fields).join(' ')} exited with ${code ?? signal}; is NotifyAccess=all set in the unit?`,
          ),
        );
      }
      done();
    });
  };

  const notify = (fields: NotifyFields): void => {
    if (!enabled) return;
    const isWatchdogOnly = Object.keys(fields).length === 1 && fields.WATCHDOG === '1';
    if (isWatchdogOnly && queue.some((queued) => queued.WATCHDOG === '1')) return;
    if (queue.length >= NOTIFY_QUEUE_MAX) {
      const droppable = queue.findIndex((queued) => !('READY' in queued || 'STOPPING' in queued));
      if (droppable === -1) return;
      queue.splice(droppable, 1);
    }
    queue.push(fields);
    next();
  };

  return {
    enabled,
    watchdogMs,
    notify,
    startWatchdog(alive) {
      if (watchdogMs === null || timer !== undefined) return;
      const petMs = Math.max(
        WATCHDOG_PET_MS_MIN,
        Math.floor(watchdogMs / WATCHDOG_PETS_PER_PERIOD),
      );
      const pet = (): void => {
        if (alive()) notify({ WATCHDOG: '1' });
      };
      pet();
      timer = setInterval(pet, petMs);
      timer.unref();
    },
    close() {
      clearInterval(timer);
      timer = undefined;
      if (running === null && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const bound = setTimeout(resolve, NOTIFY_CHILD_TIMEOUT_MS);
        bound.unref();
        idle.push(() => {
          clearTimeout(bound);
          resolve();
        });
      });
    },
  };
}
