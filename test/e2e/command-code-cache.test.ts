/**
 * Goal: the `governor` command starts from the V8 code cache the build makes beside its bundle
 * (dist/bin/governor-command.code-cache), and a cache that is corrupt, truncated, made from
 * another bundle or for other V8 flags is never given to V8 or is rejected by it: the command
 * then runs as without a cache, with the same output and exit code. A preload records each
 * compile of the bundle through `vm.Script` (whether it was given cached data, whether V8
 * rejected it); the broken caches are tried in a copy of dist/bin/, never in the build itself.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliSandbox, perTestResources, REPO_ROOT } from './cli-harness.js';

const { sandbox } = perTestResources();

/**
 * Loaded with --require: logs each `vm.Script` compile of the bundle, at construction, and at
 * exit whether Node holds the bundle's source map (it maps stack traces with it).
 */
const RECORD_COMPILES = `
const { appendFileSync } = require('node:fs');
const { findSourceMap } = require('node:module');
const vm = require('node:vm');
process.on('exit', () => {
  const bundle = Object.keys(require.cache).find((file) => file.endsWith('governor-command.js'));
  const mapped = bundle !== undefined && findSourceMap(bundle) !== undefined;
  appendFileSync(process.env.COMPILES_LOG, JSON.stringify({ mapped }) + '\\n');
});
const Original = vm.Script;
vm.Script = class extends Original {
  constructor(code, options) {
    super(code, options);
    if (options?.filename?.endsWith('governor-command.js')) {
      const entry = { cachedData: options.cachedData !== undefined, rejected: this.cachedDataRejected === true };
      appendFileSync(process.env.COMPILES_LOG, JSON.stringify(entry) + '\\n');
    }
  }
};
`;

interface Compile {
  readonly cachedData: boolean;
  readonly rejected: boolean;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The compiles of the bundle through `vm.Script` (none when Node's loader required it). */
  readonly compiles: Compile[];
  /** Whether Node held the bundle's source map at exit. */
  readonly mapped: boolean;
}

/** Runs `node NODE_ARGS ENTRY ARGS` with the compile recorder preloaded. */
function runCommand(
  box: CliSandbox,
  entry: string,
  args: readonly string[],
  nodeArgs: readonly string[] = [],
): Promise<Run> {
  const recorder = join(box.dir, 'record-compiles.cjs');
  const log = join(box.dir, 'compiles.log');
  writeFileSync(recorder, RECORD_COMPILES);
  writeFileSync(log, '');
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('GOVERNOR_') && key !== 'NODE_OPTIONS') env[key] = value;
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeArgs, '--require', recorder, entry, ...args, '--config', box.configPath],
      { cwd: box.dir, env: { ...env, NO_COLOR: '1', COMPILES_LOG: log } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        const entries = readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Compile | { mapped: boolean });
        const compiles = entries.filter((e): e is Compile => 'cachedData' in e);
        const mapped = entries.some((e) => 'mapped' in e && e.mapped);
        resolve({ code, stdout, stderr, compiles, mapped });
      },
    );
  });
}

/**
 * A copy of the installed command: dist/bin/ of the build, the package's manifest, and its
 * packages (a link to the repository's node_modules). Returns the copy's entry.
 */
function installedCopy(box: CliSandbox): { entry: string; bin: string } {
  const root = join(box.dir, 'install');
  const bin = join(root, 'dist', 'bin');
  mkdirSync(bin, { recursive: true });
  for (const name of readdirSync(join(REPO_ROOT, 'dist', 'bin'))) {
    copyFileSync(join(REPO_ROOT, 'dist', 'bin', name), join(bin, name));
  }
  copyFileSync(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
  return { entry: join(bin, 'governor.js'), bin };
}

/** A database a daemon wrote, then stopped: nobody runs it. */
async function recordedDatabase(): Promise<CliSandbox> {
  const box = sandbox();
  const daemon = box.startDaemon();
  await box.waitForStatus((s) => s.state === 'AGGRESSIVE', daemon);
  await box.stopDaemon(daemon);
  return box;
}

const USED: Compile[] = [{ cachedData: true, rejected: false }];
const NOT_GIVEN: Compile[] = [{ cachedData: false, rejected: false }];

describe('the command code cache', () => {
  it('status and --version compile the bundle from the code cache the build made, and V8 accepts it (the bundle was compiled from its source at every start)', async () => {
    const box = await recordedDatabase();
    const entry = join(REPO_ROOT, 'dist', 'bin', 'governor.js');
    const status = await runCommand(box, entry, ['status', '--db', box.dbPath]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('NOT RUNNING (last recorded AGGRESSIVE)');
    expect(status.compiles).toEqual(USED);
    const version = await runCommand(box, entry, ['--version']);
    expect(version.stdout).toMatch(/^governor \d+\.\d+\.\d+/);
    expect(version.compiles).toEqual(USED);
  });

  it('a corrupt, truncated, empty or missing code cache is never given to V8: status prints the same and exits 0 (V8 does not check a cache: bytes changed inside it crashed node)', async () => {
    const box = await recordedDatabase();
    const { entry, bin } = installedCopy(box);
    const cachePath = join(bin, 'governor-command.code-cache');
    const intact = readFileSync(cachePath);
    const args = ['status', '--db', box.dbPath];
    const reference = await runCommand(box, entry, args);
    expect(reference.code, reference.stderr).toBe(0);
    expect(reference.compiles).toEqual(USED);
    const flipped = Buffer.from(intact);
    for (let index = flipped.length >> 1; index < (flipped.length >> 1) + 64; index++) {
      flipped[index] = (flipped[index] ?? 0) ^ 0x5a;
    }
    const broken: Array<[string, Buffer | null]> = [
      ['bytes changed inside', flipped],
      ['truncated', intact.subarray(0, intact.length >> 1)],
      ['empty', Buffer.alloc(0)],
      ['missing', null],
    ];
    for (const [what, bytes] of broken) {
      rmSync(cachePath, { force: true });
      if (bytes !== null) writeFileSync(cachePath, bytes);
      const run = await runCommand(box, entry, args);
      expect({ what, code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({
        what,
        code: 0,
        stdout: reference.stdout,
        stderr: reference.stderr,
      });
      expect(run.compiles, what).toEqual(NOT_GIVEN);
    }
  });

  it('a cache made from another bundle of the same length is not used: the command runs its own code (V8 matches a cache to its source by its length only)', async () => {
    const box = sandbox();
    const { entry, bin } = installedCopy(box);
    const bundlePath = join(bin, 'governor-command.js');
    const bundle = readFileSync(bundlePath, 'utf8');
    // A message of the code the cache was made from (a status of a missing database), changed
    // without changing the bundle's length.
    expect(bundle).toContain('no governor database at');
    writeFileSync(
      bundlePath,
      bundle.replaceAll('no governor database at', 'no GOVERNOR database at'),
    );
    const run = await runCommand(box, entry, ['status', '--db', join(box.dir, 'absent.db')]);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('no GOVERNOR database at');
    expect(run.compiles).toEqual(NOT_GIVEN);
  });

  it('under other V8 flags V8 rejects the cache and the command runs from its source', async () => {
    const box = sandbox();
    const entry = join(REPO_ROOT, 'dist', 'bin', 'governor.js');
    const args = ['status', '--db', join(box.dir, 'absent.db')];
    const plain = await runCommand(box, entry, args);
    const flagged = await runCommand(box, entry, args, ['--max-old-space-size=200']);
    expect(flagged.compiles).toEqual([{ cachedData: true, rejected: true }]);
    expect({ code: flagged.code, stderr: flagged.stderr }).toEqual({
      code: plain.code,
      stderr: plain.stderr,
    });
  });

  it("with --enable-source-maps, and for `run`, `venues` and `shutdown` (their import() of ccxt needs Node's own loader; the kill's fallback must not lean on an experimental one), Node requires the bundle itself: it holds the bundle's source map for stack traces", async () => {
    const box = sandbox();
    const entry = join(REPO_ROOT, 'dist', 'bin', 'governor.js');
    const mapped = await runCommand(
      box,
      entry,
      ['status', '--db', join(box.dir, 'absent.db')],
      ['--enable-source-maps'],
    );
    expect(mapped.code).toBe(5);
    expect(mapped.compiles).toEqual([]);
    expect(mapped.mapped).toBe(true);
    for (const command of [
      ['run', '--help'],
      ['venues', 'flat', '--help'],
      ['shutdown', '--help'],
    ]) {
      const run = await runCommand(box, entry, command);
      expect(run.code, run.stderr).toBe(0);
      expect(run.compiles).toEqual([]);
    }
  });
});
