/**
 * Goal: the published package works for an embedding project. `npm pack` (which runs `prepack`,
 * i.e. the build) produces a tarball that installs into a scratch project; there a consumer's
 * TypeScript, strict and with `skipLibCheck: false`, compiles against the package's types, and
 * the compiled program runs: a GovernanceSystem on a database file reaches AGGRESSIVE and trades
 * through the engine port, with `trading-governor/testing`'s clock; then the installed
 * `governor` command (bundled into one file) prints its version, and reads and verifies that
 * database, starting from the V8 code cache the package ships. The tarball carries the
 * docs, the license and deploy/ (the systemd unit and sample configuration the docs install). Slow on purpose (installing compiles better-sqlite3): `npm run
 * test:release`, run by CI, not by `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(REPOSITORY_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const scratch = mkdtempSync(join(tmpdir(), 'governor-release-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    // A failed step shows what it printed (tsc's diagnostics are on stdout).
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed in ${cwd}\n${stdout ?? ''}\n${stderr ?? ''}`,
    );
  }
}

/** What a consumer writes, against the public API only. */
const CONSUMER = `
import {
  type Authorization,
  GovernanceSystem,
  type LifecycleState,
  alertmanagerSink,
  silentLogger,
} from 'trading-governor';
import { SimulatedClock, simulateCrash } from 'trading-governor/testing';

const clock = new SimulatedClock({ wallStartMs: Date.UTC(2026, 0, 1) });
const governance = new GovernanceSystem({
  dbPath: 'consumer.db',
  clock,
  logger: silentLogger(),
  alertSinks: [alertmanagerSink({ url: 'http://127.0.0.1:9' })],
});
const passed: boolean = await governance.runStartupChecks();
const state: LifecycleState = governance.getState();
const decision: Authorization = governance.authorize();
const { engine } = governance;
engine.transaction(() => {
  engine.capital.createPool('cash-pool', { currency: 'USD' });
  engine.capital.createAccount('cash', 'cash-pool');
  engine.capital.deposit('cash', 10_000n);
  engine.events.append({ eventType: 'ORDER_FILLED', reason: 'release test' });
});
const balance: bigint = engine.capital.balance('cash');
process.stdout.write(JSON.stringify({ passed, state, allowed: decision.allowed, balance: String(balance) }));
simulateCrash(governance);
`;

/** Preloaded: prints, for each compile of the command's bundle, whether V8 took its cache. */
const RECORD_COMPILES = `
const vm = require('node:vm');
const Original = vm.Script;
vm.Script = class extends Original {
  constructor(code, options) {
    super(code, options);
    if (options?.filename?.endsWith('governor-command.js')) {
      const entry = { cachedData: options.cachedData !== undefined, rejected: this.cachedDataRejected === true };
      process.stdout.write(JSON.stringify(entry) + '\\n');
    }
  }
};
`;

describe('npm pack → install in a scratch project → a consumer compiles and runs', () => {
  it('compiles with skipLibCheck false and runs against the installed tarball', () => {
    const packDirectory = join(scratch, 'pack');
    const projectDirectory = join(scratch, 'project');
    mkdirSync(packDirectory, { recursive: true });
    mkdirSync(projectDirectory, { recursive: true });
    run('npm', ['pack', '--pack-destination', packDirectory], REPOSITORY_ROOT);
    const tarball = readdirSync(packDirectory).find((name) => name.endsWith('.tgz'));
    expect(tarball, 'npm pack wrote a tarball').toBeDefined();
    const contents = run('tar', ['-tzf', join(packDirectory, tarball ?? '')], scratch);
    expect(contents).toContain('package/LICENSE');
    expect(contents).toContain('package/docs/api.md');
    expect(contents).toContain('package/docs/operations.md');
    expect(contents).toContain('package/dist/index.d.ts');
    expect(contents).toContain('package/dist/testing.d.ts');
    // The command: its entry, its bundle and the bundle's V8 code cache, made by prepack's build.
    expect(contents).toContain('package/dist/bin/governor.js');
    expect(contents).toContain('package/dist/bin/governor-command.js');
    expect(contents).toContain('package/dist/bin/governor-command.code-cache');
    // What docs/operations.md installs from the package (it was missing: deploy/ was not shipped).
    expect(contents).toContain('package/deploy/systemd/governor.service');
    expect(contents).toContain('package/deploy/governor.example.yaml');
    expect(contents).toContain('package/deploy/prometheus/governor-rules.yml');
    expect(contents).toContain('package/deploy/grafana/governor-dashboard.json');

    writeFileSync(
      join(projectDirectory, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
    );
    run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        join(packDirectory, tarball ?? ''),
        '@types/node@20',
      ],
      projectDirectory,
    );
    writeFileSync(join(projectDirectory, 'main.ts'), CONSUMER);
    writeFileSync(
      join(projectDirectory, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          // Not exactOptionalPropertyTypes: xstate 5's own declarations (which the machine's
          // types name) do not compile under it with skipLibCheck false.
          noUncheckedIndexedAccess: true,
          types: ['node'],
          outDir: 'out',
        },
        files: ['main.ts'],
      }),
    );
    run(process.execPath, [TSC, '-p', '.'], projectDirectory);
    const output = run(process.execPath, [join('out', 'main.js')], projectDirectory);
    expect(JSON.parse(output)).toEqual({
      passed: true,
      state: 'AGGRESSIVE',
      allowed: true,
      balance: '10000',
    });

    // The installed command (one bundled file) reads the database the consumer left behind.
    const governor = join(projectDirectory, 'node_modules', '.bin', 'governor');
    const { version } = JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(run(governor, ['--version'], projectDirectory)).toBe(`governor ${version}\n`);
    const status = JSON.parse(
      run(governor, ['status', '--json', '--db', 'consumer.db'], projectDirectory),
    ) as { running: boolean; recordedState: string };
    expect(status).toMatchObject({ running: false, recordedState: 'AGGRESSIVE' });
    run(governor, ['verify', '--full', '--db', 'consumer.db'], projectDirectory);
    // The installed command starts from the code cache it shipped with: V8 accepts it.
    writeFileSync(join(projectDirectory, 'record-compiles.cjs'), RECORD_COMPILES);
    const entry = join(projectDirectory, 'node_modules', 'trading-governor', 'dist', 'bin');
    const compiles = run(
      process.execPath,
      ['--require', './record-compiles.cjs', join(entry, 'governor.js'), '--version'],
      projectDirectory,
    );
    expect(compiles).toBe(`{"cachedData":true,"rejected":false}\ngovernor ${version}\n`);
  }, 900_000);
});
