/**
 * Goal: `governor run` under systemd (issue "The operator's kit": running as a service). The
 * sd_notify client speaks systemd's protocol to a notify socket the test owns (a Unix datagram
 * socket bound by python3), through the real `systemd-notify`: READY=1 with its STATUS in one
 * message, WATCHDOG=1 coalesced while one waits, STOPPING=1 after what was queued before it,
 * nothing at all without NOTIFY_SOCKET, and one report when the helper is missing; WATCHDOG_USEC
 * is honoured only for this process (WATCHDOG_PID). The real daemon sends READY=1 once its
 * lifecycle settled, STATUS on each mode change, WATCHDOG=1 while heartbeats succeed and
 * STOPPING=1 on SIGTERM (test/deploy/systemd-unit.test.ts verifies the unit in deploy/systemd).
 */
import { type AddressInfo, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  NOTIFY_QUEUE_MAX,
  systemdNotifier,
  WATCHDOG_PET_MS_MIN,
  watchdogPeriodMs,
} from '../../services/cli/systemd-notify.js';
import { CliSandbox } from './cli-harness.js';
import {
  fieldsOf,
  type NotifySocket,
  notifySocketSupport,
  startNotifySocket,
} from './notify-socket.js';

const unsupported = notifySocketSupport();
let socket: NotifySocket | null = null;
const sandboxes: CliSandbox[] = [];
afterEach(async () => {
  for (const box of sandboxes.splice(0)) await box.cleanup();
  await socket?.close();
  socket = null;
});

/** The messages that carry a field other than systemd-notify's own BARRIER=1. */
const ours = (messages: readonly string[]): string[] =>
  messages.filter((message) => message !== 'BARRIER=1');

describe('the watchdog period', () => {
  it('comes from WATCHDOG_USEC, only for this process, with a floor', () => {
    expect(watchdogPeriodMs({}, 42)).toBeNull();
    expect(watchdogPeriodMs({ WATCHDOG_USEC: '120000000' }, 42)).toBe(120_000);
    expect(watchdogPeriodMs({ WATCHDOG_USEC: '120000000', WATCHDOG_PID: '42' }, 42)).toBe(120_000);
    expect(watchdogPeriodMs({ WATCHDOG_USEC: '120000000', WATCHDOG_PID: '7' }, 42)).toBeNull();
    expect(watchdogPeriodMs({ WATCHDOG_USEC: '0' }, 42)).toBeNull();
    expect(watchdogPeriodMs({ WATCHDOG_USEC: 'soon' }, 42)).toBeNull();
    expect(watchdogPeriodMs({ WATCHDOG_USEC: '10' }, 42)).toBe(WATCHDOG_PET_MS_MIN);
  });
});

describe('without NOTIFY_SOCKET', () => {
  it('sends nothing and spawns nothing', async () => {
    const errors: Error[] = [];
    const notifier = systemdNotifier({
      env: { WATCHDOG_USEC: '1000000' },
      command: '/nonexistent/systemd-notify',
      onError: (error) => errors.push(error),
    });
    expect(notifier.enabled).toBe(false);
    expect(notifier.watchdogMs).toBeNull();
    notifier.notify({ READY: '1' });
    notifier.startWatchdog(() => true);
    await notifier.close();
    expect(errors).toEqual([]);
  });
});

describe.skipIf(unsupported !== null)(
  `against a notify socket the test owns${unsupported === null ? '' : ` (skipped: ${unsupported})`}`,
  () => {
    it('READY=1 carries its STATUS; STOPPING=1 arrives after everything queued before it', async () => {
      socket = await startNotifySocket();
      const notifier = systemdNotifier({ env: { NOTIFY_SOCKET: socket.path } });
      expect(notifier.enabled).toBe(true);
      notifier.notify({ READY: '1', STATUS: 'AGGRESSIVE' });
      notifier.notify({ STATUS: 'SHUTDOWN (MARKET_DATA_STALL)' });
      notifier.notify({ STOPPING: '1', STATUS: 'stopping (SIGTERM)' });
      await notifier.close();
      const messages = ours(socket.messages()).map(fieldsOf);
      expect(messages).toEqual([
        { READY: '1', STATUS: 'AGGRESSIVE' },
        { STATUS: 'SHUTDOWN (MARKET_DATA_STALL)' },
        { STOPPING: '1', STATUS: 'stopping (SIGTERM)' },
      ]);
    });

    it('a STATUS with a newline stays one field', async () => {
      socket = await startNotifySocket();
      const notifier = systemdNotifier({ env: { NOTIFY_SOCKET: socket.path } });
      notifier.notify({ STATUS: 'SHUTDOWN\nREADY=1' });
      await notifier.close();
      expect(ours(socket.messages()).map(fieldsOf)).toEqual([{ STATUS: 'SHUTDOWN READY=1' }]);
    });

    it('pets the watchdog while alive() holds, coalescing pets that wait', async () => {
      socket = await startNotifySocket();
      let alive = true;
      const notifier = systemdNotifier({
        env: { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: '300000' },
      });
      expect(notifier.watchdogMs).toBe(300);
      notifier.startWatchdog(() => alive);
      await socket.waitFor('a second WATCHDOG=1', () => {
        const pets = ours(socket?.messages() ?? []).filter((m) => m === 'WATCHDOG=1');
        return pets.length >= 2;
      });
      alive = false;
      await notifier.close();
      const afterClose = socket.messages().length;
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(socket.messages().length).toBe(afterClose);
      for (const message of ours(socket.messages())) expect(message).toBe('WATCHDOG=1');
    });

    it('the queue is bounded: READY and STOPPING are never dropped', async () => {
      socket = await startNotifySocket();
      const notifier = systemdNotifier({ env: { NOTIFY_SOCKET: socket.path } });
      notifier.notify({ READY: '1' });
      for (let index = 0; index < NOTIFY_QUEUE_MAX * 3; index++) {
        notifier.notify({ STATUS: `status ${index}` });
      }
      notifier.notify({ STOPPING: '1' });
      await notifier.close();
      const messages = ours(socket.messages()).map(fieldsOf);
      expect(messages[0]).toEqual({ READY: '1' });
      expect(messages.at(-1)).toEqual({ STOPPING: '1' });
      expect(messages.length).toBeLessThanOrEqual(NOTIFY_QUEUE_MAX + 2);
    });

    it('a missing helper is reported once, and the daemon carries on', async () => {
      socket = await startNotifySocket();
      const errors: Error[] = [];
      const notifier = systemdNotifier({
        env: { NOTIFY_SOCKET: socket.path },
        command: '/nonexistent/systemd-notify',
        onError: (error) => errors.push(error),
      });
      notifier.notify({ READY: '1' });
      notifier.notify({ STATUS: 'x' });
      await notifier.close();
      expect(errors).toHaveLength(1);
      expect(ours(socket.messages())).toEqual([]);
    });
  },
);

describe.skipIf(unsupported !== null)(
  `governor run as a Type=notify service${unsupported === null ? '' : ` (skipped: ${unsupported})`}`,
  () => {
    it('READY=1 once the lifecycle settled, STATUS on each mode change, WATCHDOG=1 while heartbeats succeed, STOPPING=1 on SIGTERM', async () => {
      const notify = await startNotifySocket();
      socket = notify;
      const box = new CliSandbox();
      sandboxes.push(box);
      const daemon = box.startDaemon(['--demo'], {
        env: { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '1500000' },
      });
      const ready = await notify.waitFor('READY=1', (m) => fieldsOf(m).READY === '1');
      expect(fieldsOf(ready)).toEqual({ READY: '1', STATUS: 'AGGRESSIVE' });
      expect(daemon.output()).toMatch(/startup checks passed: AGGRESSIVE/);
      const afterReady = notify.messages().indexOf(ready);
      for (let pets = 1; pets <= 2; pets++) {
        await notify.waitFor(`WATCHDOG=1 number ${pets}`, () => {
          const since = notify.messages().slice(afterReady);
          return since.filter((m) => m === 'WATCHDOG=1').length >= pets;
        });
      }
      const observed = await box.run(['observe', '--operator', 'sam', '--reason', 'drill']);
      expect(observed.code).toBe(0);
      await notify.waitFor('STATUS=OBSERVE_ONLY', (m) =>
        (fieldsOf(m).STATUS ?? '').startsWith('OBSERVE_ONLY'),
      );
      const beforeStop = notify.messages().length;
      expect(await box.stopDaemon(daemon)).toBe(0);
      const stopping = await notify.waitFor(
        'STOPPING=1',
        (m) => fieldsOf(m).STOPPING === '1',
        beforeStop,
      );
      expect(fieldsOf(stopping).STATUS).toBe('stopping (SIGTERM)');
      expect(notify.messages().filter((m) => fieldsOf(m).READY === '1')).toHaveLength(1);
    });

    it('a daemon that cannot start (its API port taken) never says READY', async () => {
      const notify = await startNotifySocket();
      socket = notify;
      const holder = createServer();
      await new Promise<void>((resolve) => holder.listen({ host: '127.0.0.1', port: 0 }, resolve));
      try {
        const port = (holder.address() as AddressInfo).port;
        const box = new CliSandbox(`api:\n  enabled: true\n  port: ${port}\n`);
        sandboxes.push(box);
        const result = await box.run(['run', '--demo'], { env: { NOTIFY_SOCKET: notify.path } });
        expect(result.code).toBe(2);
        expect(notify.messages()).toEqual([]);
      } finally {
        await new Promise<void>((resolve) => holder.close(() => resolve()));
      }
    });
  },
);
