/**
 * Goal: `governor status` read from the database starts as little as it needs (it took 2.2 to
 * 2.65 times a bare `node -e 0`: two SQLite connections to the database, a probe then the
 * store's, an owner check that wrote and fsynced a journal, and node:crypto loaded for a read
 * that hashes nothing; then 1.9 times, loading 43 modules of dist/ one by one). The command runs
 * from dist/ with preloads that record every SQLite connection it opens, every file and package
 * it loads, which of the bundle's modules ran (V8's coverage) and, at exit, Node's own modules it
 * loaded. `bench/cli.ts` measures the time; this checks what the time is made of,
 * without a clock.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type CliSandbox, GOVERNOR_BIN, perTestResources, REPO_ROOT } from './cli-harness.js';

const { sandbox } = perTestResources();

/**
 * Loaded with --require: wraps the constructor of better-sqlite3's native addon (the bundled
 * command runs better-sqlite3's JavaScript from its bundle when the installed one is the version
 * it bundled, else requires it; either way it loads the installed addon, which Node loads once)
 * with one that logs each connection's options; logs each package the command requires and, at
 * exit, every file it required.
 */
const RECORDED_SQLITE = `
const { appendFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join } = require('node:path');
const packageJson = require.resolve('better-sqlite3/package.json', { paths: [process.env.REPO_ROOT] });
const addon = require(join(dirname(packageJson), 'build', 'Release', 'better_sqlite3.node'));
const NativeDatabase = addon.Database;
// Its arguments: filename, the filename given, anonymous, readonly, fileMustExist, ...
addon.Database = class extends NativeDatabase {
  constructor(filename, ...rest) {
    appendFileSync(process.env.SQLITE_OPEN_LOG, JSON.stringify({ filename, readonly: rest[2] === true }) + '\\n');
    super(filename, ...rest);
  }
};
const load = Module._load;
Module._load = function (request, ...rest) {
  if (!request.startsWith('.') && !request.startsWith('/') && !Module.isBuiltin(request)) {
    appendFileSync(process.env.MODULES_LOG, 'package:' + request + '\\n');
  }
  return load.call(this, request, ...rest);
};
process.on('exit', () => {
  const { pathToFileURL } = require('node:url');
  const files = Object.keys(require.cache).map((file) => pathToFileURL(file).href);
  appendFileSync(process.env.MODULES_LOG, files.join('\\n') + '\\n');
});
`;

/** Imported in place of better-sqlite3 (from tsc's output): the package, whose addon the preload wraps. */
const RECORDED_SQLITE_IMPORT = `
import { createRequire } from 'node:module';
export default createRequire(process.env.REPO_ROOT + '/package.json')('better-sqlite3');
`;

/** Logs the URL of every module the command imports; better-sqlite3 is the recording one. */
const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (specifier === 'better-sqlite3') {
    appendFileSync(process.env.MODULES_LOG, 'package:better-sqlite3\\n');
    return { url: new URL('./recorded-sqlite.mjs', import.meta.url).href, shortCircuit: true };
  }
  const resolved = await next(specifier, context);
  appendFileSync(process.env.MODULES_LOG, resolved.url + '\\n');
  return resolved;
}
`;

const REGISTER = `
import { register } from 'node:module';
register('./hooks.mjs', import.meta.url);
`;

/** Loaded with --require: Node's own modules the command loaded, at exit. */
const BUILTINS = `
process.on('exit', () => {
  require('node:fs').writeFileSync(process.env.BUILTINS_LOG, process.moduleLoadList.join('\\n'));
});
`;

function runStatus(
  dir: string,
  box: CliSandbox,
  preload: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...preload, GOVERNOR_BIN, 'status', '--db', box.dbPath, '--config', box.configPath],
      {
        env: {
          ...process.env,
          SQLITE_OPEN_LOG: join(dir, 'sqlite-open.log'),
          BUILTINS_LOG: join(dir, 'builtins.log'),
          MODULES_LOG: join(dir, 'modules.log'),
          REPO_ROOT,
          NO_COLOR: '1',
          ...env,
        },
      },
      (error, _stdout, stderr) => {
        if (error !== null) reject(new Error(`status failed: ${stderr}`));
        else resolve();
      },
    );
  });
}

/** What one run of `governor status` loaded. */
interface StatusLoads {
  /** The connections it opened. */
  readonly opens: unknown[];
  /** The files of dist/ it loaded, relative to dist/. */
  readonly distFiles: string[];
  /**
   * The source modules whose code ran, relative to the repository: of a bundle, the modules it
   * imports lazily whose initialiser ran (V8's coverage; the modules it imports statically run
   * at every start); of a file of tsc's output, its source.
   */
  readonly evaluated: string[];
  /** The packages it loaded (imported or required), sorted. */
  readonly packages: string[];
  /** Node's own modules it loaded (a run of its own: the import hooks load some). */
  readonly builtins: string[];
}

/** The source files a built file of dist/ came from, relative to the repository. */
function sourcesOf(distFile: string): string[] {
  const file = join(REPO_ROOT, 'dist', distFile);
  const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };
  return map.sources.map((source) => relative(REPO_ROOT, resolvePath(dirname(file), source)));
}

interface Coverage {
  readonly result: Array<{
    readonly url: string;
    readonly functions: Array<{ functionName: string; ranges: Array<{ count: number }> }>;
  }>;
}

/** The source modules whose code ran in the files of dist/ the coverage in `directory` covers. */
function evaluatedIn(directory: string): string[] {
  const dist = pathToFileURL(join(REPO_ROOT, 'dist')).href;
  const evaluated = new Set<string>();
  for (const name of readdirSync(directory)) {
    const { result } = JSON.parse(readFileSync(join(directory, name), 'utf8')) as Coverage;
    for (const script of result.filter(({ url }) => url.startsWith(`${dist}/`))) {
      // esbuild names a lazily imported module's initialiser after its source path.
      const initialisers = script.functions.filter((f) => f.functionName.endsWith('.ts'));
      if (initialisers.length === 0) {
        for (const source of sourcesOf(script.url.slice(dist.length + 1))) evaluated.add(source);
      }
      for (const { functionName, ranges } of initialisers) {
        if ((ranges[0]?.count ?? 0) > 0) evaluated.add(functionName);
      }
    }
  }
  return [...evaluated];
}

/** The package a module's URL or a required name belongs to (`@scope/name` or `name`). */
function packageOf(entry: string): string {
  const tail = entry.startsWith('package:')
    ? entry.slice('package:'.length)
    : entry.slice(entry.lastIndexOf('/node_modules/') + '/node_modules/'.length);
  const parts = tail.split('/');
  return (tail.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

/** The connections `governor status` opens and what it loads (two runs). */
async function statusRecorded(box: CliSandbox): Promise<StatusLoads> {
  const dir = join(box.dir, 'recorder');
  mkdirSync(dir);
  writeFileSync(join(dir, 'recorded-sqlite.cjs'), RECORDED_SQLITE);
  writeFileSync(join(dir, 'recorded-sqlite.mjs'), RECORDED_SQLITE_IMPORT);
  writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
  writeFileSync(join(dir, 'register.mjs'), REGISTER);
  writeFileSync(join(dir, 'builtins.cjs'), BUILTINS);
  writeFileSync(join(dir, 'sqlite-open.log'), '');
  writeFileSync(join(dir, 'modules.log'), '');
  await runStatus(
    dir,
    box,
    [
      '--require',
      join(dir, 'recorded-sqlite.cjs'),
      '--import',
      pathToFileURL(join(dir, 'register.mjs')).href,
    ],
    { NODE_V8_COVERAGE: join(dir, 'coverage') },
  );
  await runStatus(dir, box, ['--require', join(dir, 'builtins.cjs')]);
  const opens = readFileSync(join(dir, 'sqlite-open.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as unknown);
  const loaded = readFileSync(join(dir, 'modules.log'), 'utf8').split('\n').filter(Boolean);
  const dist = pathToFileURL(join(REPO_ROOT, 'dist')).href;
  const distFiles = [
    ...new Set(
      loaded.filter((url) => url.startsWith(`${dist}/`)).map((url) => url.slice(dist.length + 1)),
    ),
  ];
  const packages = loaded
    .filter((entry) => entry.startsWith('package:') || entry.includes('/node_modules/'))
    .map(packageOf);
  return {
    opens,
    distFiles,
    evaluated: evaluatedIn(join(dir, 'coverage')),
    packages: [...new Set(packages)].sort(),
    builtins: readFileSync(join(dir, 'builtins.log'), 'utf8').split('\n'),
  };
}

/** A database a daemon wrote, then stopped: nobody runs it. */
async function recordedDatabase(): Promise<CliSandbox> {
  const box = sandbox();
  const daemon = box.startDaemon();
  await box.waitForStatus((s) => s.state === 'AGGRESSIVE', daemon);
  await box.stopDaemon(daemon);
  return box;
}

describe('governor status with nobody running', () => {
  it('opens the database once, read-only, checks the owner read-only, loads no node:crypto and none of the repositories it does not read (it opened the database twice and loaded crypto and every repository)', async () => {
    const box = await recordedDatabase();
    const { opens, evaluated, builtins } = await statusRecorded(box);
    expect(opens).toEqual([
      { filename: box.dbPath, readonly: true },
      { filename: `${box.dbPath}.owner`, readonly: true },
    ]);
    // The core of the store only: none of the repositories a status read does not use.
    expect(evaluated).toContain('persistence/store-core.ts');
    expect(evaluated).not.toContain('persistence/store.ts');
    expect(evaluated).not.toContain('persistence/capital.ts');
    expect(evaluated.filter((path) => path.startsWith('persistence/integrity/'))).toEqual([]);
    expect(builtins).toContain('NativeModule net');
    expect(builtins).not.toContain('NativeModule crypto');
    expect(builtins).not.toContain('NativeModule perf_hooks');
    expect(builtins).not.toContain('NativeModule worker_threads');
  });

  it("runs the bundled command: its entry dist/bin/governor.js and one bundle, no statechart, HTTP API or venue code, and no package but SQLite: the YAML parser of the sandbox's config comes from the bundle (it loaded 43 modules of dist/ one by one, then yaml's 71 files)", async () => {
    const box = await recordedDatabase();
    const { distFiles, evaluated, packages } = await statusRecorded(box);
    // Not the library's modules (dist/services/, dist/persistence/...): the command's entry and
    // the bundle it compiles (from its code cache) and runs as a module.
    expect(distFiles).toEqual(['bin/governor.js', 'bin/governor-command.js']);
    const heavy = /^(machines\/\w+-machine\.ts|services\/(api|venues)\/.*)$/;
    expect(evaluated.filter((path) => heavy.test(path))).toEqual([]);
    expect(evaluated).not.toContain('services/governor/governance-system.ts');
    // SQLite only: the sandbox's configuration file (governor.yaml) is parsed by the YAML parser
    // bundled into the command (loaded from its own 71 files it cost 35–64 ms a start).
    expect(box.configPath.endsWith('.yaml')).toBe(true);
    expect(packages).toEqual(['better-sqlite3']);
  });

  it("runs better-sqlite3's JavaScript from the bundle only when the installed better-sqlite3 is the version it was built with; another version's is required from its package (its JavaScript must match its addon)", async () => {
    const box = await recordedDatabase();
    // An install of the command whose better-sqlite3 says another version (its lib/ and addon
    // copied, every other package linked to the repository's).
    const root = join(box.dir, 'install');
    const bin = join(root, 'dist', 'bin');
    mkdirSync(bin, { recursive: true });
    for (const name of readdirSync(join(REPO_ROOT, 'dist', 'bin'))) {
      copyFileSync(join(REPO_ROOT, 'dist', 'bin', name), join(bin, name));
    }
    copyFileSync(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
    const modules = join(root, 'node_modules');
    mkdirSync(modules);
    for (const name of readdirSync(join(REPO_ROOT, 'node_modules'))) {
      if (name !== 'better-sqlite3') {
        symlinkSync(join(REPO_ROOT, 'node_modules', name), join(modules, name));
      }
    }
    const installed = realpathSync(join(REPO_ROOT, 'node_modules', 'better-sqlite3'));
    const other = join(modules, 'better-sqlite3');
    cpSync(join(installed, 'lib'), join(other, 'lib'), { recursive: true });
    mkdirSync(join(other, 'build', 'Release'), { recursive: true });
    copyFileSync(
      join(installed, 'build', 'Release', 'better_sqlite3.node'),
      join(other, 'build', 'Release', 'better_sqlite3.node'),
    );
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      version: string;
    };
    writeFileSync(
      join(other, 'package.json'),
      JSON.stringify({ ...manifest, version: `${manifest.version}-other` }),
    );
    const recorder = join(box.dir, 'required.cjs');
    writeFileSync(
      recorder,
      "process.on('exit', () => require('node:fs').writeFileSync(process.env.REQUIRED_LOG, Object.keys(require.cache).join('\\n')));",
    );
    const statusWith = (entry: string): Promise<{ stdout: string; libraryRequired: boolean }> =>
      new Promise((resolve, reject) => {
        const log = join(box.dir, 'required.log');
        execFile(
          process.execPath,
          ['--require', recorder, entry, 'status', '--db', box.dbPath, '--config', box.configPath],
          { env: { ...process.env, NO_COLOR: '1', REQUIRED_LOG: log } },
          (error, stdout, stderr) => {
            if (error !== null) {
              reject(new Error(`status failed: ${stderr}`));
              return;
            }
            const required = readFileSync(log, 'utf8').split('\n');
            const database = join('better-sqlite3', 'lib', 'database.js');
            resolve({ stdout, libraryRequired: required.some((file) => file.endsWith(database)) });
          },
        );
      });
    const bundled = await statusWith(GOVERNOR_BIN);
    expect(bundled.libraryRequired).toBe(false);
    const otherVersion = await statusWith(join(bin, 'governor.js'));
    expect(otherVersion.libraryRequired).toBe(true);
    expect(otherVersion.stdout).toBe(bundled.stdout);
    expect(otherVersion.stdout).toContain('NOT RUNNING (last recorded AGGRESSIVE)');
  });
});
