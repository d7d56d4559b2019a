/**
 * Goal: a command governor prints for an operator to paste works pasted as is, into a shell in
 * any directory, with USER unset: it acts on the database it was printed for (named by its
 * absolute path, shell-quoted, with the config file the printing command read), in the name of
 * the operator the shell reports.
 *
 * Regression: every alert's recommended action, the refusal's "To restart anyway: governor
 * restart --operator NAME --reason TEXT --force" and the daemon's advice omitted `--db` and
 * `--config`: run elsewhere they acted on ./governor.db or failed with exit 5; and the README's
 * `--operator "$USER"` was empty in containers and systemd units.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tamperBalance } from '../../persistence/faults.js';
import { shellQuote } from '../../services/cli/printed-command.js';
import { GovernanceSystem } from '../../services/governor/governance-system.js';
import { type CliResult, E2E_CONFIG_YAML, GOVERNOR_BIN, perTestResources } from './cli-harness.js';

const { sandbox } = perTestResources();

function exec(file: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv) {
  return new Promise<CliResult>((resolve) => {
    execFile(file, args, { cwd, env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A shell with `governor` on its PATH (the built command), USER and every GOVERNOR_* unset. */
function pasteShell(binDir: string): NodeJS.ProcessEnv {
  return { PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, NO_COLOR: '1' };
}

/** A database latched by the kill switch, whose cash account changed behind governor's back. */
function latchedWithCapitalDrift(dbPath: string): void {
  const governance = new GovernanceSystem({ dbPath, operatorRequestPollMs: null });
  const { engine } = governance;
  engine.transaction(() => {
    engine.capital.createPool('pool', { currency: 'USD' });
    engine.capital.createAccount('cash', 'pool');
    engine.capital.deposit('cash', 1_000n);
  });
  governance.operatorShutdown({ operator: 'olga', reason: 'drill' });
  governance.close();
  tamperBalance(dbPath, 'cash', 1n);
}

describe('commands printed for an operator to paste', () => {
  it('regression: omitted --db and --config, so pasted elsewhere they acted on ./governor.db or exited 5', async () => {
    const box = sandbox();
    const home = join(box.dir, "ops it's here");
    const elsewhere = join(box.dir, 'elsewhere');
    const binDir = join(box.dir, 'bin');
    for (const dir of [home, elsewhere, binDir]) mkdirSync(dir);
    writeFileSync(
      join(binDir, 'governor'),
      `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(GOVERNOR_BIN)} "$@"\n`,
    );
    chmodSync(join(binDir, 'governor'), 0o755);
    writeFileSync(join(home, 'governor.yaml'), E2E_CONFIG_YAML);
    const dbPath = join(home, 'gov db.db');
    latchedWithCapitalDrift(dbPath);

    // In the database's own directory, with relative paths, as an operator first types them.
    const env = { ...pasteShell(binDir), USER: 'olga' };
    const local = ['--db', 'gov db.db', '--config', 'governor.yaml'];
    const refused = await exec(
      process.execPath,
      [GOVERNOR_BIN, 'restart', ...local, '--operator', 'olga', '--reason', 'first try'],
      home,
      env,
    );
    expect(refused.code, refused.stderr).toBe(2);
    const forced = /^To restart anyway: (governor .*)$/m.exec(refused.stderr)?.[1];
    const alerts = await exec(process.execPath, [GOVERNOR_BIN, 'alerts', ...local], home, env);
    const action = /^ {2}action .*`(governor restart [^`]*)`/m.exec(alerts.stdout)?.[1];
    if (forced === undefined || action === undefined) {
      throw new Error(`no command printed:\n${refused.stderr}\n${alerts.stdout}`);
    }
    for (const command of [forced, action]) {
      expect(command).toContain(`--db ${shellQuote(dbPath)}`);
      expect(command).toContain(`--config ${shellQuote(join(home, 'governor.yaml'))}`);
    }

    // Pasted as is into a shell elsewhere, USER unset: the alert's action meets the pre-flight
    // of that very file (its capital drift), then the forced restart clears its latch.
    const shell = pasteShell(binDir);
    const pasted = await exec('/bin/sh', ['-c', action], elsewhere, shell);
    expect(pasted.code, pasted.stderr).toBe(2);
    expect(pasted.stderr).toContain('CAPITAL_INCONSISTENT: pool pool');
    const pastedForce = await exec('/bin/sh', ['-c', forced], elsewhere, shell);
    expect([0, 8], pastedForce.stderr + pastedForce.stdout).toContain(pastedForce.code);

    const db = new Database(dbPath, { readonly: true });
    const restarts = db
      .prepare(
        "SELECT metadata FROM events WHERE event_type = 'OPERATOR_ACTION' AND json_extract(metadata, '$.action') = 'RESTART'",
      )
      .all() as Array<{ metadata: string }>;
    db.close();
    expect(restarts.map((row) => JSON.parse(row.metadata).operator)).toEqual([userInfo().username]);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('a value quoted by shellQuote reaches the command as the very same word', async () => {
    const box = sandbox();
    for (const word of ["it's", 'a b', '$HOME', '`id`', 'a\nb', '"', '\\', '-x', '', 'é ü']) {
      const echoed = await exec('/bin/sh', ['-c', `printf %s ${shellQuote(word)}`], box.dir, {});
      expect(echoed.stdout).toBe(word);
    }
  });
});
