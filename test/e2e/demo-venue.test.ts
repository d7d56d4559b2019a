/**
 * Goal: the demo's paper exchange is one of governor's venues, end to end with the real command.
 * A live kill of `governor run --demo` cancels its resting take-profit orders and both the
 * command and the daemon say it is flat; once the daemon is stopped, the exchange's orders are
 * gone with it, so an offline `governor shutdown` of the demo database reports it flat and
 * exits 0 (it named it NOT CONFIRMED FLAT and exited 9), and a later daemon of the database that
 * runs no demo drops it from the record, so its live kill does not wait for word on it.
 */
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../services/cli/exit-codes.js';
import { perTestResources } from './cli-harness.js';

const { sandbox } = perTestResources();

describe('the demo paper exchange as a venue', () => {
  it('a live kill of the demo daemon cancels the resting orders: the command and the daemon print it flat', async () => {
    const box = sandbox();
    const daemon = box.startDaemon(['--demo']);
    await box.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', daemon);
    // The 5 s summary counts the take-profits resting at the exchange: wait for some.
    await box.waitForOutput(daemon, /; [1-9]\d* resting at the exchange$/m);
    const kill = await box.run(['shutdown', '--operator', 'olga', '--reason', 'kill drill']);
    expect(kill.code, `${kill.stdout}${kill.stderr}`).toBe(EXIT.OK);
    expect(kill.stdout).toMatch(/governor is now SHUTDOWN \(confirmed by owner pid \d+ /);
    const cancelled =
      /^paper-exchange: (\d+) orders? cancelled, flat \d+ ms after the request$/m.exec(kill.stdout);
    expect(cancelled, kill.stdout).not.toBeNull();
    expect(Number(cancelled?.[1])).toBeGreaterThan(0);
    await box.waitForOutput(
      daemon,
      new RegExp(`^demo: paper-exchange: ${cancelled?.[1]} resting orders? cancelled, flat$`, 'm'),
    );
    expect(await box.stopDaemon(daemon)).toBe(0);
  });

  it('regression: a demo database kept paper-exchange on record and an offline kill exited 9 naming it', async () => {
    const box = sandbox();
    const daemon = box.startDaemon(['--demo']);
    await box.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', daemon);
    await box.waitForOutput(daemon, /; [1-9]\d* resting at the exchange$/m);
    expect(await box.stopDaemon(daemon, 'SIGTERM')).toBe(0);
    // No daemon runs: the command carries the kill out itself.
    const kill = await box.run(['shutdown', '--operator', 'olga', '--reason', 'closed overnight']);
    expect(kill.code, `${kill.stdout}${kill.stderr}`).toBe(EXIT.OK);
    expect(kill.stderr).toBe('');
    expect(kill.stdout).toMatch(/governor is now SHUTDOWN \(no owner running/);
    expect(kill.stdout).toMatch(
      /^paper-exchange: its orders lived in the stopped process; nothing rests there$/m,
    );
    expect(kill.stdout).not.toMatch(/NOT CONFIRMED FLAT/);
    // And status, with no owner running, says the same.
    const status = await box.run(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /paper-exchange: flat: its orders lived in the stopped process; nothing rests there/,
    );
  });

  it('regression: a daemon without --demo on a demo database waited for word on paper-exchange and a live kill exited 9', async () => {
    const box = sandbox();
    const demo = box.startDaemon(['--demo']);
    await box.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', demo);
    await box.waitForOutput(demo, /; [1-9]\d* resting at the exchange$/m);
    expect(await box.stopDaemon(demo, 'SIGTERM')).toBe(0);
    // The next daemon of the same database runs no demo: no paper exchange in its process.
    const daemon = box.startDaemon([]);
    await box.waitForStatus((s) => s.running && s.state !== 'STARTING', daemon);
    const kill = await box.run(['shutdown', '--operator', 'olga', '--reason', 'kill drill']);
    expect(kill.code, `${kill.stdout}${kill.stderr}`).toBe(EXIT.OK);
    expect(kill.stdout).toMatch(/governor is now SHUTDOWN \(confirmed by owner pid \d+ /);
    expect(`${kill.stdout}${kill.stderr}`).not.toMatch(/paper-exchange/);
    expect(await box.stopDaemon(daemon)).toBe(0);
  });
});
