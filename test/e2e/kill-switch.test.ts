/**
 * Goal: `governor shutdown` from another process reaches the owner of the database, whatever it
 * is, and the command reports what the owner did. An engine that embeds governor (no control
 * socket) closes its gate and delivers its alert after the request is committed (the latencies
 * are measured and written to test-artifacts/e2e/kill-switch.json, never asserted); a daemon
 * whose socket is gone or not the one named, and a database named through a symlink, are reached
 * all the same; an owner that hangs is reported as NOT CONFIRMED (exit 7) and carries the
 * shutdown out when it wakes.
 *
 * Regressions of the one-authority issue, item 1: `governor shutdown` with no socket reachable
 * (embedded engine, deleted socket, other --socket, symlinked path) recorded the latch, reported
 * success, and the running owner never learned of it.
 */
import { symlinkSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Received, type Receiver, waitFor } from '../services/alerts/support.js';
import { type CliSandbox, perTestResources } from './cli-harness.js';
import {
  type EngineChild,
  lastRequest,
  recordFigures,
  startEngine,
  startTradingEngine,
} from './engine-harness.js';

interface WebhookBody {
  readonly status: string;
  readonly alert: { readonly kind: string; readonly alertId: string };
}

const { sandbox, receiver } = perTestResources();

const confirmedBy = (pid: number, state: string): RegExp =>
  new RegExp(
    `governor is now ${state} \\(confirmed by owner pid ${pid} on ${hostname()}, \\d+ ms after the request\\)`,
  );

/**
 * `governor shutdown` against a trading engine: checks the gate closed, the alert arrived and the
 * request was confirmed by the engine; returns the latencies from the request's record (its
 * requested_at_ms is taken just before the commit). The engine sees its gate closed at
 * `closedMs`; it last saw it open at `lastSeenOpenMs`; the owner's handling of the request runs
 * in between, on the engine's event loop.
 */
async function measuredShutdown(
  box: CliSandbox,
  engine: EngineChild,
  hook: Receiver,
): Promise<Record<string, number>> {
  const from = engine.mark();
  const seen = hook.received.length;
  const result = await box.run(['shutdown', '--operator', 'dana', '--reason', 'kill switch e2e']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(confirmedBy(engine.pid, 'SHUTDOWN'));
  const closed = await engine.waitForGate(false, from);
  const alertAt = (): Received | undefined =>
    hook.received
      .slice(seen)
      .find(
        (r) =>
          (r.body as WebhookBody).alert?.kind === 'SHUTDOWN' &&
          (r.body as WebhookBody).status === 'firing',
      );
  await waitFor(() => alertAt() !== undefined, 'the SHUTDOWN alert at the receiver', {
    turns: 500,
  });
  const arrival = alertAt();
  if (arrival === undefined) throw new Error('the SHUTDOWN alert vanished from the receiver');
  const request = lastRequest(box);
  expect(request).toMatchObject({ command: 'shutdown', status: 'done' });
  expect(request.handled_by).toBe(`owner pid ${engine.pid} on ${hostname()}`);
  const since = (atMs: number): number => Number((atMs - request.requested_at_ms).toFixed(1));
  return {
    recordToGateClosedMs: since(closed.atMs),
    recordToGateLastSeenOpenMs: since(Number(closed.lastUnchangedAtMs)),
    recordToAlertReceivedMs: since(performance.timeOrigin + arrival.arrivedAtMs),
    recordToOwnerConfirmedMs: since(request.handled_at_ms ?? Number.NaN),
  };
}

describe('the kill switch reaches the owner of the database, end to end', () => {
  it('an engine embedding governor closes its gate and delivers its alert after `governor shutdown --db` from another process', async () => {
    const box = sandbox();
    const hook = await receiver();
    const engine = await startTradingEngine(box, { webhookUrl: hook.url });
    // Two rounds: the first alert of the engine's life (its first HTTP request), then another.
    const first = await measuredShutdown(box, engine, hook);
    const reopened = engine.mark();
    const restart = await box.run(['restart', '--operator', 'dana', '--reason', 'round two']);
    expect(restart.stdout).toMatch(confirmedBy(engine.pid, 'AGGRESSIVE'));
    await engine.waitForGate(true, reopened);
    const second = await measuredShutdown(box, engine, hook);
    recordFigures('kill-switch', { targetMs: 100, first, second });
    expect(engine.running).toBe(true);
  });

  it('regression (item 1): shutdown against an engine that embeds governor (no control socket) was recorded offline and reported as done while the engine kept trading; now the engine enters SHUTDOWN and the command reports its confirmation', async () => {
    const box = sandbox();
    const engine = await startTradingEngine(box);
    const from = engine.mark();
    const result = await box.run(['shutdown', '--operator', 'dana', '--reason', 'no socket']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(confirmedBy(engine.pid, 'SHUTDOWN'));
    expect(result.stdout).not.toMatch(/no owner running/);
    await engine.waitForGate(false, from);
    const entered = await engine.waitFor('SHUTDOWN', (e) => e.event === 'mode', from);
    expect(entered).toMatchObject({ to: 'SHUTDOWN', trigger: 'OPERATOR_KILL' });
    const status = await box.status();
    expect(status).toMatchObject({ running: true, state: 'SHUTDOWN', trigger: 'OPERATOR_KILL' });
    expect(status.owner?.pid).toBe(engine.pid);
  });

  it('regression (item 1): shutdown after the daemon socket was deleted was recorded offline while the daemon traded on; now the daemon enters SHUTDOWN and confirms', async () => {
    const box = sandbox();
    const daemon = box.startDaemon(['--demo']);
    const live = await box.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', daemon);
    unlinkSync(join(box.dir, '.governor.db.control', 'governor.sock'));
    const result = await box.run(['shutdown', '--operator', 'dana', '--reason', 'socket deleted']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(confirmedBy(live.pid ?? -1, 'SHUTDOWN'));
    await box.waitForOutput(daemon, /AGGRESSIVE -> SHUTDOWN \(OPERATOR_KILL\)/);
    // No socket: status reads the database and names the owner whose lock is held.
    const status = await box.status();
    expect(status).toMatchObject({ running: true, source: 'recorded', state: 'SHUTDOWN' });
    expect(status.owner?.pid).toBe(live.pid);
    expect(await box.stopDaemon(daemon)).toBe(0);
  });

  it('regression (item 1): shutdown with --socket naming another socket was recorded offline while the daemon traded on; now the daemon enters SHUTDOWN and confirms', async () => {
    const box = sandbox();
    const daemon = box.startDaemon(['--demo']);
    const live = await box.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', daemon);
    const result = await box.run([
      'shutdown',
      '--operator',
      'dana',
      '--reason',
      'other socket',
      '--socket',
      join(box.dir, 'elsewhere', 'governor.sock'),
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(confirmedBy(live.pid ?? -1, 'SHUTDOWN'));
    expect((await box.status()).state).toBe('SHUTDOWN');
    await box.waitForOutput(daemon, /AGGRESSIVE -> SHUTDOWN \(OPERATOR_KILL\)/);
    expect(await box.stopDaemon(daemon)).toBe(0);
  });

  it('regression (item 1): shutdown naming the database through a symlink was recorded offline while the owner traded on; now the owner enters SHUTDOWN and confirms', async () => {
    const box = sandbox();
    const engine = await startTradingEngine(box);
    const link = join(box.dir, 'link-to-governor.db');
    symlinkSync(box.dbPath, link);
    const from = engine.mark();
    const result = await box.run(['shutdown', '--operator', 'dana', '--reason', 'via symlink'], {
      db: link,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(confirmedBy(engine.pid, 'SHUTDOWN'));
    await engine.waitForGate(false, from);
    expect(lastRequest(box).handled_by).toBe(`owner pid ${engine.pid} on ${hostname()}`);
  });

  it('an owner that hangs does not confirm: the command exits 7 saying NOT CONFIRMED and naming it; the owner carries the shutdown out when it wakes', async () => {
    const box = sandbox();
    // Thresholds far above the stall: nothing but the request may close the gate.
    const engine = await startTradingEngine(box, {
      thresholds: {
        heartbeatLossMs: 120_000,
        marketDataUnhealthyAfterMs: 120_000,
        marketDataShutdownAfterMs: 120_000,
        eventLogUnhealthyAfterMs: 120_000,
        eventLogShutdownAfterMs: 120_000,
        integrityCheckIntervalMs: 120_000,
      },
    });
    const from = engine.mark();
    // Longer than the command's start plus its 5 s wait, with room for a slow machine.
    engine.send('stall 25000');
    await engine.waitFor('stalling', (e) => e.event === 'stalling', from);

    const result = await box.run(['shutdown', '--operator', 'dana', '--reason', 'owner hangs']);
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(
      new RegExp(
        `NOT CONFIRMED: the owner \\(pid ${engine.pid} on ${hostname()}\\) did not confirm the shutdown within \\d+ s; the request stays recorded`,
      ),
    );
    expect(lastRequest(box)).toMatchObject({ command: 'shutdown', status: 'pending' });
    const resumed = await engine.waitFor('resumed', (e) => e.event === 'resumed', from);
    const entered = await engine.waitFor('SHUTDOWN', (e) => e.event === 'mode', from);
    expect(entered).toMatchObject({ to: 'SHUTDOWN', trigger: 'OPERATOR_KILL' });
    await engine.waitForGate(false, from);
    await waitFor(() => lastRequest(box).status === 'done', 'the request carried out');
    const request = lastRequest(box);
    expect(request.handled_by).toBe(`owner pid ${engine.pid} on ${hostname()}`);
    recordFigures('kill-switch-not-confirmed', {
      resumedToShutdownMs: Number((entered.atMs - resumed.atMs).toFixed(1)),
      recordToOwnerConfirmedMs: (request.handled_at_ms ?? Number.NaN) - request.requested_at_ms,
    });
  });

  it('a daemon that hangs (SIGSTOP) does not confirm: shutdown exits 7 naming it, status reads the database instead of failing, and the daemon carries the shutdown out when it runs again', async () => {
    const box = sandbox();
    // Thresholds far above the pause, so that only the request can shut it down.
    box.writeConfig(`api:
  enabled: false
thresholds:
  heartbeatLossMs: 120000
  marketDataUnhealthyAfterMs: 120000
  marketDataShutdownAfterMs: 120000
  eventLogUnhealthyAfterMs: 120000
  eventLogShutdownAfterMs: 120000
`);
    const daemon = box.startDaemon(['--demo']);
    const live = await box.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', daemon);
    daemon.child.kill('SIGSTOP');
    try {
      const result = await box.run(['shutdown', '--operator', 'dana', '--reason', 'daemon hangs']);
      expect(result.code).toBe(7);
      expect(result.stderr).toMatch(
        new RegExp(
          `NOT CONFIRMED: the owner \\(pid ${live.pid} on ${hostname()}\\) did not confirm`,
        ),
      );
      const status = await box.run(['status']);
      expect(status.code).toBe(0);
      expect(status.stderr).toMatch(/no answer from the daemon within 3000 ms/);
      expect(status.stdout).toMatch(
        new RegExp(
          `^governor {2}AGGRESSIVE {2}\\(owner pid ${live.pid} on ${hostname()}, its control socket did not answer: as recorded\\)`,
        ),
      );
      expect(status.stdout).toMatch(/gate +closed: /);
    } finally {
      daemon.child.kill('SIGCONT');
    }
    await waitFor(() => lastRequest(box).status === 'done', 'the request carried out');
    expect(lastRequest(box).handled_by).toBe(`owner pid ${live.pid} on ${hostname()}`);
    expect((await box.status()).state).toBe('SHUTDOWN');
    expect(await box.stopDaemon(daemon)).toBe(0);
  });

  it('with no owner running, shutdown is carried out by the command itself and the next start honours it', async () => {
    const box = sandbox();
    const first = await startTradingEngine(box);
    expect(await first.close()).toBe(0);
    const result = await box.run(['shutdown', '--operator', 'dana', '--reason', 'nobody runs']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /governor is now SHUTDOWN \(no owner running: recorded in the database; the next start honours it\)/,
    );
    const next = startEngine(box);
    const checks = await next.waitFor('checks', (e) => e.event === 'checks');
    expect(checks).toMatchObject({ passed: false, state: 'SHUTDOWN' });
    expect(next.events.some((e) => e.event === 'gate' && e.open === true)).toBe(false);
  });
});
