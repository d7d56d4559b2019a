/**
 * Goal: the real `governor` command behaves as an operator is told in docs/operations.md:
 * `run` reaches AGGRESSIVE; a demo fault shuts down with an alert; the SHUTDOWN survives
 * `kill -9`; only an operator's `restart` clears it, and the next `run` must pass the checks;
 * an operator command without --operator is refused and changes nothing; `verify` runs the full
 * verifier and exits 4 on an edited event.
 */
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { CliSandbox } from './cli-harness.js';

describe('governor command, end to end', () => {
  const sandbox = new CliSandbox();
  afterAll(() => sandbox.cleanup());

  it('run, then status shows AGGRESSIVE', async () => {
    const daemon = sandbox.startDaemon(['--demo']);
    const status = await sandbox.waitForStatus(
      (s) => s.running && s.state === 'AGGRESSIVE',
      daemon,
    );
    expect(status.state).toBe('AGGRESSIVE');
    expect(await sandbox.stopDaemon(daemon)).toBe(0);
  });

  it('an operator command without --operator is refused and changes nothing', async () => {
    const before = await sandbox.run(['events', '--json', '--limit', '1']);
    const refused = await sandbox.run(['shutdown', '--reason', 'testing the kill switch']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--operator/);
    const noReason = await sandbox.run(['restart', '--operator', 'alice']);
    expect(noReason.code).toBe(2);
    const after = await sandbox.run(['events', '--json', '--limit', '1']);
    expect(after.stdout).toBe(before.stdout);
    const status = await sandbox.status();
    expect(status.state).toBe('AGGRESSIVE');
  });

  it('a demo market stall leads to SHUTDOWN with an alert naming the trigger', async () => {
    const daemon = sandbox.startDaemon(['--demo', '--demo-fault', 'market-stall']);
    const status = await sandbox.waitForStatus((s) => s.running && s.state === 'SHUTDOWN', daemon);
    expect(status.trigger).toBe('MARKET_DATA_STALL');
    const alerts = await sandbox.run(['alerts', '--json']);
    expect(alerts.code).toBe(0);
    const list = JSON.parse(alerts.stdout) as Array<{
      title: string;
      severity: string;
      message: string;
    }>;
    const shutdown = list.find((a) => a.title.includes('market data stalled'));
    expect(shutdown?.severity).toBe('CRITICAL');
    expect(shutdown?.message).toMatch(/threshold 2s/);
    expect(daemon.output()).toMatch(/ALERT CRITICAL: Fail-safe shutdown: market data stalled/);
    // kill -9: no graceful stop at all.
    expect(await sandbox.stopDaemon(daemon, 'SIGKILL')).toBe('SIGKILL');
  });

  it('after kill -9, run again: still SHUTDOWN', async () => {
    const daemon = sandbox.startDaemon(['--demo']);
    const status = await sandbox.waitForStatus((s) => s.running && s.state === 'SHUTDOWN', daemon);
    expect(status.trigger).toBe('MARKET_DATA_STALL');
    expect(await sandbox.stopDaemon(daemon)).toBe(0);
  });

  it('restart --operator --reason, then run: AGGRESSIVE after the checks', async () => {
    const restart = await sandbox.run(['restart', '--operator', 'alice', '--reason', 'feed fixed']);
    expect(restart.code).toBe(0);
    const daemon = sandbox.startDaemon(['--demo']);
    const status = await sandbox.waitForStatus(
      (s) => s.running && s.state === 'AGGRESSIVE',
      daemon,
    );
    expect(status.state).toBe('AGGRESSIVE');
    const events = await sandbox.run(['events', '--json', '--limit', '10000']);
    const types = events.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { eventType: string }).eventType);
    expect(types.lastIndexOf('STARTUP_CHECKS_COMPLETED')).toBeGreaterThan(
      types.lastIndexOf('OPERATOR_ACTION'),
    );
    expect(await sandbox.stopDaemon(daemon)).toBe(0);
  });

  it('operator actions reach a running daemon over the control socket', async () => {
    const daemon = sandbox.startDaemon(['--demo']);
    await sandbox.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', daemon);
    const resumeRefused = await sandbox.run([
      'resume',
      '--operator',
      'bob',
      '--reason',
      'not observing',
    ]);
    expect(resumeRefused.code).toBe(2);
    const observe = await sandbox.run(['observe', '--operator', 'bob', '--reason', 'news event']);
    expect(observe.code).toBe(0);
    expect((await sandbox.status()).state).toBe('OBSERVE_ONLY');
    const resume = await sandbox.run(['resume', '--operator', 'bob', '--reason', 'news passed']);
    expect(resume.code).toBe(0);
    await sandbox.waitForStatus((s) => s.state === 'AGGRESSIVE', daemon);
    const kill = await sandbox.run([
      'shutdown',
      '--operator',
      'bob',
      '--reason',
      'kill switch drill',
    ]);
    expect(kill.code).toBe(0);
    const status = await sandbox.status();
    expect(status.state).toBe('SHUTDOWN');
    expect(status.trigger).toBe('OPERATOR_KILL');
    expect(await sandbox.stopDaemon(daemon)).toBe(0);
  });

  it('verify passes on the log the daemon wrote, and reports a head that is not in it', async () => {
    const ok = await sandbox.run(['verify', '--full', '--json']);
    expect(ok.code).toBe(0);
    const report = JSON.parse(ok.stdout) as {
      ok: boolean;
      violations: unknown[];
      head: { seq: number; hash: string };
      run: { full: boolean; eventsChecked: number };
    };
    expect(report.ok).toBe(true);
    expect(report.violations).toEqual([]);
    expect(report.run.full).toBe(true);
    expect(report.run.eventsChecked).toBe(report.head.seq);
    const anchored = await sandbox.run(['verify', '--expect-head', report.head.hash]);
    expect(anchored.code).toBe(0);
    const withSeq = await sandbox.run([
      'verify',
      '--expect-head',
      `${report.head.seq}:${report.head.hash}`,
    ]);
    expect(withSeq.code).toBe(0);
    expect(withSeq.stdout).toMatch(/ok {3}expected head .* is in the chain/);
    const missing = await sandbox.run(['verify', '--expect-head', 'f'.repeat(64)]);
    expect(missing.code).toBe(4);
    const malformed = await sandbox.run(['verify', '--expect-head', 'not-a-hash']);
    expect(malformed.code).toBe(1);
  });

  it('status with no daemon running reads the database and exits 0; observe needs a daemon', async () => {
    const status = await sandbox.status();
    expect(status.running).toBe(false);
    const observe = await sandbox.run(['observe', '--operator', 'carol', '--reason', 'x']);
    expect(observe.code).toBe(3);
  });

  it('verify --full finds an event edited after it was written and exits 4, naming the seq', async () => {
    const raw = new Database(sandbox.dbPath);
    try {
      raw.prepare("UPDATE events SET reason = 'edited by hand' WHERE seq = 2").run();
    } finally {
      raw.close();
    }
    const human = await sandbox.run(['verify', '--full']);
    expect(human.code).toBe(4);
    expect(human.stdout).toMatch(/FAIL event log/);
    expect(human.stdout).toMatch(/hash mismatch at seq 2/);
    const json = await sandbox.run(['verify', '--full', '--json']);
    expect(json.code).toBe(4);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      violations: Array<{ check: string; location: { seq?: number } }>;
    };
    expect(report.ok).toBe(false);
    expect(report.violations).toContainEqual(
      expect.objectContaining({
        check: 'EVENT_LOG',
        location: expect.objectContaining({ seq: 2 }),
      }),
    );
  });
});
