/**
 * Goal: the operator's kit (issue "The operator's kit"), run as an operator runs it.
 * A restart runs a pre-flight and refuses (exit 2, naming the rule, no new alert) what would trip
 * again; `--force` restarts anyway and a restart that ends in SHUTDOWN exits 8; the demo's world
 * recovers by itself and a restart then passes. A capital mismatch is corrected by `governor
 * capital adjust` (the mismatch shown first, one audited transaction, an event in the chain),
 * then restarted. `events --type/--since` filter and say who did what; `config check`,
 * `--version`, per-command help and bash completion work; `--help` loads no heavy dependency.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../persistence/index.js';
import { EXIT } from '../../services/cli/exit-codes.js';
import { type CliResult, CliSandbox, type Daemon, GOVERNOR_BIN } from './cli-harness.js';

const sandboxes: CliSandbox[] = [];
function sandbox(config?: string): CliSandbox {
  const created = new CliSandbox(config);
  sandboxes.push(created);
  return created;
}
afterEach(async () => {
  for (const created of sandboxes.splice(0)) await created.cleanup();
});

const NEVER_RECOVERS = { GOVERNOR_DEMO_RECOVERY_MS: '0' };

const restart = (box: CliSandbox, reason: string, ...extra: string[]): Promise<CliResult> =>
  box.run(['restart', '--operator', 'olga', '--reason', reason, ...extra]);

function shutdownAlerts(box: CliSandbox): number {
  return (
    box.query<{ count: number }>("SELECT COUNT(*) AS count FROM alerts WHERE kind = 'SHUTDOWN'")[0]
      ?.count ?? 0
  );
}

async function shutDownBy(box: CliSandbox, daemon: Daemon, trigger: string): Promise<void> {
  const status = await box.waitForStatus((s) => s.running && s.state === 'SHUTDOWN', daemon);
  expect(status.trigger).toBe(trigger);
}

describe('restart into a trip', () => {
  it('regression: after --demo-fault market-stall the first restart ended in SHUTDOWN again and exited 0; now its pre-flight refuses it (exit 2, no new alert), --force exits 8, and once the feed flows it passes', async () => {
    const box = sandbox();
    const daemon = box.startDaemon(['--demo', '--demo-fault', 'market-stall'], {
      env: NEVER_RECOVERS,
    });
    await shutDownBy(box, daemon, 'MARKET_DATA_STALL');
    // The paper exchange is one of governor's venues: its resting orders are cancelled, flat.
    await box.waitForOutput(
      daemon,
      /^demo: paper-exchange: [1-9]\d* resting orders? cancelled, flat$/m,
    );
    await box.waitForOutput(daemon, /^demo: \d+ orders filled, .*; \d+ resting at the exchange$/m);
    const alertsBefore = shutdownAlerts(box);

    const refused = await restart(box, 'feed maybe back');
    expect(refused.code).toBe(EXIT.REFUSED);
    expect(refused.stderr).toMatch(
      /^refused by the owner: restart would shut governor down again at once; nothing was changed\nthe pre-flight found:\n {2}MARKET_DATA_STALL: no market data for /,
    );
    expect(refused.stderr).toContain(
      `governor restart --db ${box.dbPath} --config ${box.configPath} --operator "$(id -un)" --reason TEXT --force`,
    );
    expect(shutdownAlerts(box)).toBe(alertsBefore);
    expect((await box.status()).state).toBe('SHUTDOWN');

    // Forced, it restarts into the same stale feed: SHUTDOWN again, its own exit code.
    const forced = await restart(box, 'testing the feed', '--force');
    expect(forced.code).toBe(EXIT.RESTARTED_INTO_SHUTDOWN);
    expect(forced.stderr).toMatch(/^restart by olga: governor is SHUTDOWN again \(/);
    expect(shutdownAlerts(box)).toBe(alertsBefore + 1);

    // An operator's restart brings the simulated feed back (ticking long before the next
    // command starts): the next restart passes its pre-flight.
    const passed = await restart(box, 'feed flows');
    expect(passed.code).toBe(EXIT.OK);
    expect(passed.stdout).toMatch(/^restart by olga: governor is now AGGRESSIVE \(confirmed by/);
    expect(await box.stopDaemon(daemon)).toBe(0);
  });

  it('after --demo-fault error-storm a restart inside the error window is refused without another alert; the demo recovers by itself and a restart then passes', async () => {
    const box = sandbox();
    const daemon = box.startDaemon(['--demo', '--demo-fault', 'error-storm'], {
      env: { GOVERNOR_DEMO_RECOVERY_MS: '500' },
    });
    await shutDownBy(box, daemon, 'HEALTH_CHECK_FAILED');
    const refused = await restart(box, 'too early');
    expect(refused.code).toBe(EXIT.REFUSED);
    expect(refused.stderr).toMatch(/ {2}HEALTH_CHECK_FAILED: .*error/);
    await box.waitForOutput(daemon, /demo: the exchange answers again/);
    let passed: CliResult = refused;
    // Bounded by time, not attempts (an attempt takes 0.2-1 s): the demo's error window is 10 s.
    const giveUpAt = Date.now() + 30_000;
    while (passed.code !== EXIT.OK && Date.now() < giveUpAt) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      passed = await restart(box, 'exchange answers');
      if (passed.code !== EXIT.OK) expect(passed.code).toBe(EXIT.REFUSED);
    }
    expect(passed.stdout).toMatch(/governor is now AGGRESSIVE/);
    expect(shutdownAlerts(box)).toBe(1);
    expect(await box.stopDaemon(daemon)).toBe(0);
  });
});

describe('a daemon that started latched', () => {
  it('regression: a daemon started in SHUTDOWN stayed in STARTING after an operator restart (no lifecycle ran); now the restart runs the startup checks', async () => {
    const box = sandbox();
    const first = box.startDaemon(['--demo']);
    await box.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', first);
    expect(await box.stopDaemon(first)).toBe(0);
    const kill = await box.run(['shutdown', '--operator', 'olga', '--reason', 'closed overnight']);
    // Carried out; the demo's paper exchange is on record, but its orders lived in the stopped
    // daemon: flat, and the kill exits 0.
    expect(kill.stdout).toMatch(/governor is now SHUTDOWN \(no owner running/);
    expect(kill.stdout).toMatch(
      /^paper-exchange: its orders lived in the stopped process; nothing rests there$/m,
    );
    expect(kill.code).toBe(EXIT.OK);
    const daemon = box.startDaemon(['--demo']);
    await box.waitForStatus((s) => s.running && s.state === 'SHUTDOWN', daemon);
    const passed = await restart(box, 'open for the day');
    expect(passed.code).toBe(EXIT.OK);
    expect(passed.stdout).toMatch(/governor is now AGGRESSIVE \(confirmed by/);
    expect(await box.stopDaemon(daemon)).toBe(0);
  });
});

describe('no way out of a capital mismatch: governor capital adjust', () => {
  it('shows the mismatch, applies an audited correction in one transaction with an event, and the restart then passes', async () => {
    const box = sandbox();
    const daemon = box.startDaemon(['--demo', '--demo-fault', 'capital-drift']);
    await shutDownBy(box, daemon, 'CAPITAL_INCONSISTENT');
    const refused = await restart(box, 'drift?');
    expect(refused.code).toBe(EXIT.REFUSED);
    expect(refused.stderr).toMatch(/ {2}CAPITAL_INCONSISTENT: pool paper-usd/);
    expect(refused.stderr).toContain(
      `governor capital adjust --db ${box.dbPath} --config ${box.configPath} --pool ID --account ID`,
    );

    const adjust = ['capital', 'adjust', '--pool', 'paper-usd', '--account', 'paper-cash'];
    const dryRun = await box.run([...adjust, '--amount', '-1', '--dry-run']);
    expect(dryRun.code).toBe(EXIT.OK);
    expect(dryRun.stdout).toMatch(
      /^pool paper-usd now: .*\(MISMATCH: difference -1 minor units\)$/m,
    );
    expect(dryRun.stdout).toMatch(/^after it: .*\(reconciled\)$/m);
    expect(dryRun.stdout).toMatch(/dry run: nothing was changed/);

    const wrong = await box.run([
      ...adjust,
      '--amount',
      '+1',
      '--operator',
      'olga',
      '--reason',
      'x',
    ]);
    expect(wrong.code).toBe(EXIT.REFUSED);
    expect(wrong.stderr).toMatch(/leaves pool paper-usd unreconciled/);
    expect(box.query("SELECT seq FROM events WHERE event_type = 'CAPITAL_CORRECTED'")).toEqual([]);

    const fixed = await box.run([
      ...adjust,
      '--amount',
      '-1',
      '--operator',
      'olga',
      '--reason',
      'INC-7: fee booked twice',
    ]);
    expect(fixed.code).toBe(EXIT.OK);
    expect(fixed.stdout).toMatch(
      /^capital adjust by olga: applied; .*\(reconciled\) \(confirmed by/m,
    );
    const events = await box.run(['events', '--type', 'OPERATOR_ACTION,CAPITAL_CORRECTED']);
    expect(events.stdout).toMatch(
      /OPERATOR_ACTION {2}olga ADJUST_CAPITAL in SHUTDOWN: INC-7: fee booked twice\n.*CAPITAL_CORRECTED {2}pool paper-usd, account paper-cash: -1 minor units/,
    );
    expect((await box.run(['verify', '--full'])).code).toBe(EXIT.OK);
    const passed = await restart(box, 'INC-7: records corrected');
    expect(passed.code).toBe(EXIT.OK);
    expect(passed.stdout).toMatch(/governor is now AGGRESSIVE/);
    expect(await box.stopDaemon(daemon)).toBe(0);
  });
});

describe('the rest of the kit', () => {
  it('events --type and --since filter; operator rows say who did what; heartbeats keep the spec format', async () => {
    const box = sandbox();
    const daemon = box.startDaemon(['--demo']);
    await box.waitForStatus((s) => s.running && s.state === 'AGGRESSIVE', daemon);
    expect((await box.run(['observe', '--operator', 'olga', '--reason', 'news'])).code).toBe(0);
    expect(await box.stopDaemon(daemon)).toBe(0);
    const actions = await box.run(['events', '--type', 'OPERATOR_ACTION', '--since', '10m']);
    expect(actions.code).toBe(0);
    expect(actions.stdout.trim().split('\n')).toHaveLength(1);
    expect(actions.stdout).toMatch(/OPERATOR_ACTION {2}olga OBSERVE in AGGRESSIVE: news$/m);
    const heartbeats = await box.run(['events', '--type', 'SYSTEM_MODE_CHANGE', '--limit', '500']);
    expect(heartbeats.stdout).toMatch(/SYSTEM_MODE_CHANGE {2}Heartbeat - system alive$/m);
    const future = await box.run(['events', '--since', '2999-01-01T00:00:00Z']);
    expect(future).toMatchObject({ code: 0, stdout: 'no events match\n' });
    const bad = await box.run(['events', '--since', 'last tuesday']);
    expect(bad.code).toBe(EXIT.USAGE);
  });

  it('config check prints the effective config with secrets masked, and exits 2 naming a bad key', async () => {
    const box = sandbox();
    const good = await box.run(['config', 'check'], {
      env: { GOVERNOR_API_TOKEN: 'a-secret-token-of-24-chars' },
    });
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^# configuration OK; file: .*governor\.yaml$/m);
    expect(good.stdout).toMatch(/^ {2}bearerToken: "?\*{8}"?$/m);
    expect(good.stdout).not.toContain('a-secret-token');
    expect(good.stdout).toMatch(/^ {2}marketDataShutdownAfterMs: 2000$/m);
    box.writeConfig('thresholds:\n  heartbeatLossMs: soon\n');
    const bad = await box.run(['config', 'check']);
    expect(bad.code).toBe(EXIT.REFUSED);
    expect(bad.stderr).toMatch(/thresholds\.heartbeatLossMs: expected an integer/);
  });

  it('--version, per-command help and bash completion', async () => {
    const box = sandbox();
    const version = await box.run(['--version']);
    expect(version.stdout).toMatch(/^governor \d+\.\d+\.\d+/);
    const help = await box.run(['events', '--help']);
    expect(help.stdout).toContain('--since WHEN');
    expect(help.stdout).toContain('examples:');
    const script = await box.run(['completion', 'bash']);
    expect(script.code).toBe(0);
    const scriptPath = join(box.dir, 'governor.bash');
    writeFileSync(scriptPath, script.stdout);
    const completions = (words: string[]): string[] => {
      const line = words.map((word) => `"${word}"`).join(' ');
      const result = spawnSync(
        'bash',
        [
          '-c',
          `source "$0"; COMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; _governor; printf '%s\\n' "\${COMPREPLY[@]}"`,
          scriptPath,
        ],
        { encoding: 'utf8' },
      );
      return result.stdout.trim().split('\n');
    };
    expect(completions(['governor', 'cap'])).toEqual(['capital']);
    expect(completions(['governor', 'capital', ''])).toEqual(['adjust']);
    expect(completions(['governor', 'restart', '--f'])).toEqual(['--force']);
    expect(completions(['governor', 'run', '--demo-fault', 'market'])).toEqual(['market-stall']);
  });

  it('regression: every command cost 300-450 ms loading every command and dependency up front; --help and a daemon-less status now load none of the heavy ones', () => {
    const hook = `data:text/javascript,${encodeURIComponent(
      `export async function resolve(s, c, n) { const r = await n(s, c); if (r.url.includes('/node_modules/')) process.stderr.write('LOADED ' + r.url + '\\n'); return r; }`,
    )}`;
    const register = `data:text/javascript,${encodeURIComponent(
      `import { register } from 'node:module'; register(${JSON.stringify(hook)});`,
    )}`;
    // The bundled command requires its packages: those are in require's cache at exit.
    const box = sandbox();
    const required = join(box.dir, 'required.cjs');
    writeFileSync(
      required,
      `process.on('exit', () => { for (const file of Object.keys(require.cache)) process.stderr.write('LOADED ' + require('node:url').pathToFileURL(file).href + '\\n'); });`,
    );
    const loaded = (args: string[]): string[] => {
      const result = spawnSync(
        process.execPath,
        ['--require', required, '--import', register, GOVERNOR_BIN, ...args],
        { encoding: 'utf8', env: { ...process.env, GOVERNOR_CONFIG: '' } },
      );
      return [...result.stderr.matchAll(/LOADED .*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map(
        (match) => match[1] as string,
      );
    };
    const heavy = ['pino', 'prom-client', 'yaml', 'xstate', '@statelyai/inspect'];
    for (const name of heavy) expect(loaded(['--help'])).not.toContain(name);
    expect(loaded(['--help'])).not.toContain('better-sqlite3');
    Store.open(box.dbPath).close();
    const json = join(box.dir, 'governor.json');
    writeFileSync(json, '{}');
    const status = loaded(['status', '--db', box.dbPath, '--config', json]);
    expect(status).toContain('better-sqlite3'); // it did read the database
    for (const name of heavy) expect(status).not.toContain(name);
  });
});
