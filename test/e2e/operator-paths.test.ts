/**
 * Goal: every operator command of the command line (`shutdown`, `observe`, `resume`, `restart`,
 * `ack`, and `status`) reaches the owner of the database, whatever it is: an engine that embeds
 * governor in a child process (no control socket), a `governor run` daemon, or nobody (the
 * command carries it out itself and the next start honours it). Each outcome is what the owner
 * reports, and each request row records who carried it out.
 *
 * Regressions of the one-authority issue, item 9: `governor restart` with no daemon running wrote
 * no `resolve` to the outbox (the receiver never learned the incident was over), and an offline
 * `governor status` showed the last recorded AGGRESSIVE as the headline state.
 */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../services/alerts/support.js';
import { type CliResult, type CliSandbox, perTestResources } from './cli-harness.js';
import {
  type EngineChild,
  lastRequest,
  startEngine,
  startTradingEngine,
} from './engine-harness.js';

interface WebhookBody {
  readonly status: 'firing' | 'resolved';
  readonly alert: { readonly kind: string; readonly alertId: string };
}

interface OutboxRow {
  readonly sink: string;
  readonly operation: string;
  readonly status: string;
}

const { sandbox, receiver } = perTestResources();

const operatorCommand = (box: CliSandbox, command: string, reason: string): Promise<CliResult> =>
  box.run([command, '--operator', 'olga', '--reason', reason]);

function expectConfirmed(result: CliResult, command: string, pid: number, state: string): void {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(
    new RegExp(
      `^${command} by olga: governor is now ${state} \\(confirmed by owner pid ${pid} on ${hostname()}, \\d+ ms after the request\\)`,
    ),
  );
}

/** The SHUTDOWN alert's id, as `governor alerts` lists it. */
async function shutdownAlertId(box: CliSandbox): Promise<string> {
  const listed = await box.run(['alerts', '--json']);
  expect(listed.code).toBe(0);
  const alert = (JSON.parse(listed.stdout) as Array<{ alertId: string; title: string }>).find((a) =>
    /shutdown/i.test(a.title),
  );
  if (alert === undefined) throw new Error(`no SHUTDOWN alert listed: ${listed.stdout}`);
  return alert.alertId;
}

/**
 * The whole operator path against a running owner: readers (verify, events) beside it, a refused
 * resume, observe, resume, the kill switch, ack and restart, each confirmed by `ownerPid`; `gate`
 * (the owner's gate, as the test can see it) is checked after each.
 */
async function walkOperatorPath(
  box: CliSandbox,
  ownerPid: number,
  gate: ((open: boolean) => Promise<void>) | null,
): Promise<void> {
  // Readers beside the running owner: never blocked, never refused.
  const verify = await box.run(['verify', '--json']);
  expect(verify.stderr).toBe('');
  expect(verify.code).toBe(0);
  expect((JSON.parse(verify.stdout) as { ok: boolean }).ok).toBe(true);
  const events = await box.run(['events', '--limit', '5', '--json']);
  expect(events.code).toBe(0);
  expect(events.stdout.trim().split('\n')).toHaveLength(5);

  const refused = await operatorCommand(box, 'resume', 'not observing');
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/^refused by the owner: .*resume is not possible in AGGRESSIVE/);
  expect(lastRequest(box)).toMatchObject({ command: 'resume', status: 'refused' });

  expectConfirmed(
    await operatorCommand(box, 'observe', 'news'),
    'observe',
    ownerPid,
    'OBSERVE_ONLY',
  );
  await gate?.(false);
  expectConfirmed(
    await operatorCommand(box, 'resume', 'news passed'),
    'resume',
    ownerPid,
    'AGGRESSIVE',
  );
  await gate?.(true);
  expectConfirmed(
    await operatorCommand(box, 'shutdown', 'drill'),
    'shutdown',
    ownerPid,
    'SHUTDOWN',
  );
  await gate?.(false);

  const alertId = await shutdownAlertId(box);
  const ack = await box.run(['ack', alertId, '--operator', 'olga']);
  expect(ack.code).toBe(0);
  expect(ack.stdout).toBe(`alert ${alertId} acknowledged by olga\n`);
  expect(box.query('SELECT acknowledged_by FROM alerts WHERE alert_id = ?', alertId)).toEqual([
    { acknowledged_by: 'olga' },
  ]);
  const unknown = await box.run(['ack', 'no-such-alert', '--operator', 'olga']);
  expect(unknown.code).toBe(5);

  expectConfirmed(
    await operatorCommand(box, 'restart', 'drill over'),
    'restart',
    ownerPid,
    'AGGRESSIVE',
  );
  await gate?.(true);
  // Every request, refused or done, was handled by the running owner and nobody else.
  const handlers = box.query<{ handled_by: string }>(
    'SELECT DISTINCT handled_by FROM operator_requests',
  );
  expect(handlers).toEqual([{ handled_by: `owner pid ${ownerPid} on ${hostname()}` }]);
}

function gateOf(engine: EngineChild): (open: boolean) => Promise<void> {
  let from = engine.mark();
  return async (open) => {
    const seen = await engine.waitForGate(open, from);
    from = engine.events.indexOf(seen) + 1;
  };
}

describe('operator commands reach whoever owns the database', () => {
  it('against an engine that embeds governor in a child process: status names it, and every command is confirmed by it', async () => {
    const box = sandbox();
    const engine = await startTradingEngine(box);
    const human = await box.run(['status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      new RegExp(
        `^governor {2}AGGRESSIVE {2}\\(owner pid ${engine.pid} on ${hostname()}, no control socket: as recorded\\)`,
      ),
    );
    expect(await box.status()).toMatchObject({
      running: true,
      source: 'recorded',
      pid: engine.pid,
    });
    await walkOperatorPath(box, engine.pid, gateOf(engine));
    expect(engine.running).toBe(true);
  });

  it('against a `governor run` daemon: every command is confirmed by it', async () => {
    const box = sandbox();
    const daemon = box.startDaemon(['--demo']);
    const live = await box.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', daemon);
    expect(live.source).toBe('live');
    await walkOperatorPath(box, live.pid ?? -1, async (open) => {
      const status = await box.status();
      expect(status.canDeployCapital).toBe(open);
    });
    await box.waitForOutput(daemon, /AGGRESSIVE -> SHUTDOWN \(OPERATOR_KILL\)/);
    expect(await box.stopDaemon(daemon)).toBe(0);
  });

  it('with no owner running: each command is carried out by the command itself, says so, and the next start honours it', async () => {
    const box = sandbox();
    expect(await (await startTradingEngine(box)).close()).toBe(0);

    const observe = await operatorCommand(box, 'observe', 'before the open');
    expect(observe.code).toBe(0);
    expect(observe.stdout).toMatch(
      /\(no owner running: recorded in the database; the next start goes to OBSERVE_ONLY\)/,
    );
    expect((await box.status()).desiredMode).toBe('OBSERVE_ONLY');

    const resume = await operatorCommand(box, 'resume', 'nothing runs');
    expect(resume.code).toBe(3);
    expect(resume.stderr).toMatch(
      /^refused: .*resume is not possible in STARTING.*\(no owner is running\)/,
    );

    const shutdown = await operatorCommand(box, 'shutdown', 'closed for the day');
    expect(shutdown.code).toBe(0);
    expect(shutdown.stdout).toMatch(
      /^shutdown by olga: governor is now SHUTDOWN \(no owner running: recorded in the database; the next start honours it\)/,
    );
    expect(await box.status()).toMatchObject({
      running: false,
      state: 'SHUTDOWN',
      trigger: 'OPERATOR_KILL',
    });
    const resumeLatched = await operatorCommand(box, 'resume', 'latched');
    expect(resumeLatched.code).toBe(2);
    expect(resumeLatched.stderr).toMatch(/resume is not possible in SHUTDOWN/);

    const alertId = await shutdownAlertId(box);
    const ack = await box.run(['ack', alertId, '--operator', 'olga']);
    expect(ack.code).toBe(0);
    expect(ack.stdout).toBe(`alert ${alertId} acknowledged by olga\n`);

    const restart = await operatorCommand(box, 'restart', 'open tomorrow');
    expect(restart.code).toBe(0);
    expect(restart.stdout).toMatch(
      /\(no owner running: recorded in the database; the latch is cleared; the next start must pass the startup checks again\)/,
    );
    const handlers = box.query<{ handled_by: string }>(
      'SELECT DISTINCT handled_by FROM operator_requests',
    );
    expect(handlers.every((h) => /^owner pid \d+ on /.test(h.handled_by))).toBe(true);

    // The next start: checks pass, and the observe recorded with nobody running holds.
    const next = startEngine(box);
    const checks = await next.waitFor('checks', (e) => e.event === 'checks');
    expect(checks).toMatchObject({ state: 'OBSERVE_ONLY' });
  });

  it('regression: ack through a running owner was carried out but never confirmed (its outcome held a Date, which the request row refuses), so the command waited and exited 7', async () => {
    const box = sandbox();
    const engine = await startTradingEngine(box);
    expectConfirmed(
      await operatorCommand(box, 'shutdown', 'drill'),
      'shutdown',
      engine.pid,
      'SHUTDOWN',
    );
    const alertId = await shutdownAlertId(box);
    const ack = await box.run(['ack', alertId, '--operator', 'olga', '--json']);
    expect(ack.stderr).toBe('');
    expect(ack.code).toBe(0);
    expect(JSON.parse(ack.stdout)).toMatchObject({
      alertId,
      acknowledged: true,
      acknowledgedBy: 'olga',
      acknowledgedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(lastRequest(box)).toMatchObject({
      command: 'ack',
      status: 'done',
      handled_by: `owner pid ${engine.pid} on ${hostname()}`,
    });
  });

  it('regression (item 9): restart with no owner running wrote no resolve to the outbox; now the resolution is queued for the sink that had the alert, and the next owner delivers it', async () => {
    const box = sandbox();
    const hook = await receiver();
    const bodies = (): WebhookBody[] => hook.received.map((r) => r.body as WebhookBody);
    const engine = await startTradingEngine(box, { webhookUrl: hook.url });
    expectConfirmed(
      await operatorCommand(box, 'shutdown', 'incident'),
      'shutdown',
      engine.pid,
      'SHUTDOWN',
    );
    await waitFor(
      () => bodies().some((b) => b.status === 'firing' && b.alert.kind === 'SHUTDOWN'),
      'the SHUTDOWN alert at the receiver',
      { turns: 500 },
    );
    const alertId = bodies().find((b) => b.alert.kind === 'SHUTDOWN')?.alert.alertId ?? '';
    expect(await engine.close()).toBe(0);

    // The config names no sink: the command cannot deliver; it must queue for `webhook`.
    const restart = await operatorCommand(box, 'restart', 'incident over');
    expect(restart.code).toBe(0);
    const outbox = box.query<OutboxRow>(
      'SELECT sink, operation, status FROM alert_outbox WHERE alert_id = ? ORDER BY id',
      alertId,
    );
    expect(outbox).toContainEqual({ sink: 'webhook', operation: 'resolve', status: 'pending' });
    expect(bodies().some((b) => b.status === 'resolved')).toBe(false);

    await startTradingEngine(box, { webhookUrl: hook.url });
    await waitFor(
      () => bodies().some((b) => b.status === 'resolved' && b.alert.alertId === alertId),
      'the resolution at the receiver',
      { turns: 500 },
    );
    await waitFor(
      () =>
        box
          .query<OutboxRow>(
            "SELECT sink, operation, status FROM alert_outbox WHERE alert_id = ? AND operation = 'resolve'",
            alertId,
          )
          .some((row) => row.status === 'delivered'),
      'the resolve delivery recorded',
    );
  });

  it('regression (item 9): offline status showed the last recorded AGGRESSIVE as the headline state; now a database nobody owns shows NOT RUNNING, after kill -9 of a daemon or of an engine', async () => {
    const box = sandbox();
    const daemon = box.startDaemon(['--demo']);
    await box.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', daemon);
    expect(await box.stopDaemon(daemon, 'SIGKILL')).toBe('SIGKILL');
    const expectNotRunning = async (): Promise<void> => {
      const human = await box.run(['status']);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(
        /^governor {2}NOT RUNNING \(last recorded AGGRESSIVE\) {2}\(no owner running\)/,
      );
      expect(human.stdout).not.toMatch(/^governor {2}AGGRESSIVE/);
      expect(human.stdout).toMatch(/gate +closed: no owner is running: nothing may deploy capital/);
      expect(await box.status()).toMatchObject({
        running: false,
        state: null,
        recordedState: 'AGGRESSIVE',
        canDeployCapital: false,
      });
    };
    await expectNotRunning();

    const engine = await startTradingEngine(box);
    expect(await engine.kill('SIGKILL')).toBe('SIGKILL');
    await expectNotRunning();
  });
});
