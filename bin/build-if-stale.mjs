#!/usr/bin/env node
/**
 * The build of dist/ (`tsc -p tsconfig.build.json`, then the `governor` command bundled into
 * one file, dist/bin/governor-command.js, by esbuild, with its entry dist/bin/governor.js and
 * its V8 code cache), made only when a source changed since the last successful build (a
 * stamp in dist/ records when it began). `--always` builds regardless (`npm run build`);
 * `--start ARGS` then runs the built command with ARGS in this process (`npm start -- ARGS`).
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as zlib from 'node:zlib';

const { crc32 } = zlib;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(ROOT, 'dist', '.build-stamp');
/** What the build reads: tsconfig.build.json's inputs, the compiler options, the package. */
const SOURCES = [
  'index.ts',
  'testing.ts',
  'machines',
  'services',
  'persistence',
  'bin',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
];

/** The newest modification time under `path` (a directory's own time counts: a removed file). */
function newestMtimeMs(path) {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats === undefined) return 0;
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) {
    newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  }
  return newest;
}

function isStale() {
  const stamp = statSync(STAMP, { throwIfNoEntry: false });
  if (stamp === undefined) return true;
  return SOURCES.some((source) => newestMtimeMs(join(ROOT, source)) >= stamp.mtimeMs);
}

/**
 * The command as it ships: bin/governor.ts and everything it imports from the sources bundled
 * into one CommonJS file, dist/bin/governor-command.js (dist/bin/package.json says so), run by
 * the command's entry dist/bin/governor.js (bin/governor-entry.ts) from the code cache made
 * last (bin/code-cache.ts), with the integrity walk's worker entry beside it (its caller starts `./chain-worker-entry.js` beside
 * itself). A short command then reads one file, where it loaded dozens of ES modules of dist/
 * through Node's ES module loader, whose cost per module was most of its start. A lazily
 * imported module (a command's code, the daemon) still runs only when imported, and the packages
 * it imports are required only then: packages stay outside the file (better-sqlite3's native
 * addon, ccxt, pg, xstate, pino: installed with the package), but for better-sqlite3's
 * JavaScript (sqliteBundlePlugin). `import.meta.url` is the built
 * file's URL; `import.meta.resolve` is used only when running from the TypeScript sources. Whitespace
 * and syntax minified, names kept; a source map beside each file (`node --enable-source-maps`
 * shows the TypeScript sources' lines in a stack trace). The library entry points
 * (dist/index.js, testing.js, ccxt.js) stay tsc's ES modules.
 */
/**
 * better-sqlite3's JavaScript (lib/, a dozen small CommonJS files) bundled into the command, so
 * that a command reading the database neither resolves nor compiles them at each start (they are
 * in the code cache with the rest), used only when the installed better-sqlite3 is the version
 * bundled and its addon is where an npm install builds it: its JavaScript must match its addon.
 * Otherwise, and for every other package, the installed package is required as before.
 */
function sqliteBundlePlugin() {
  const packageJson = createRequire(import.meta.url).resolve('better-sqlite3/package.json');
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8'));
  const shim = `'use strict';
const { existsSync, readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
function bundledMatches() {
  try {
    const packageJson = require.resolve('better-sqlite3/package.json');
    const installed = JSON.parse(readFileSync(packageJson, 'utf8')).version;
    const addon = join(dirname(packageJson), 'build', 'Release', 'better_sqlite3.node');
    return installed === ${JSON.stringify(version)} && existsSync(addon);
  } catch {
    return false;
  }
}
module.exports = bundledMatches() ? require('better-sqlite3/lib/index.js') : require('better-sqlite3');
`;
  const addonShim = `'use strict';
const { dirname, join } = require('node:path');
module.exports = (name) =>
  require(join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', name));
`;
  return {
    name: 'bundled-better-sqlite3',
    setup(build) {
      build.onResolve({ filter: /^better-sqlite3$/ }, (args) =>
        args.namespace === 'better-sqlite3-choice'
          ? { path: args.path, external: true }
          : { path: 'better-sqlite3', namespace: 'better-sqlite3-choice' },
      );
      build.onResolve({ filter: /^better-sqlite3\/lib\/index\.js$/ }, () => ({
        path: join(dirname(packageJson), 'lib', 'index.js'),
      }));
      // The bundled copy's search for its addon when a connection names none (the `bindings`
      // package looks beside the file that calls it: the bundle): the installed addon, which
      // the choice above found where an npm install builds it.
      build.onResolve({ filter: /^bindings$/ }, (args) =>
        args.importer.includes(`${sep}better-sqlite3${sep}lib${sep}`)
          ? { path: 'bindings', namespace: 'better-sqlite3-addon' }
          : { path: args.path, external: true },
      );
      build.onLoad({ filter: /.*/, namespace: 'better-sqlite3-addon' }, () => ({
        contents: addonShim,
        loader: 'js',
        resolveDir: ROOT,
      }));
      // Every other package stays installed, but the YAML parser: pure JavaScript with no
      // dependency, bundled so that a YAML config's parser comes from the code cache.
      build.onResolve({ filter: /^[^./]/ }, (args) =>
        args.path === 'yaml' ? undefined : { path: args.path, external: true },
      );
      build.onLoad({ filter: /.*/, namespace: 'better-sqlite3-choice' }, () => ({
        contents: shim,
        loader: 'js',
        resolveDir: ROOT,
      }));
    },
  };
}

async function bundleCommand() {
  // dist/bin/ is the bundle's alone (tsconfig.build.json leaves bin/ out): a plain tsc run
  // cannot put an ES module in this CommonJS directory.
  const outdir = join(ROOT, 'dist', 'bin');
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  writeFileSync(join(outdir, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
  const { build: esbuild } = await import('esbuild');
  const options = {
    absWorkingDir: ROOT,
    outdir,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    plugins: [sqliteBundlePlugin()],
    define: { 'import.meta.url': 'importMetaUrl' },
    banner: {
      js: "'use strict';\nconst importMetaUrl = require('node:url').pathToFileURL(__filename).href;",
    },
    logOverride: { 'empty-import-meta': 'silent' },
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
  };
  await esbuild({ ...options, entryPoints: { 'governor-command': 'bin/governor.ts' } });
  // The command's file is not run as a script: its `#!` line becomes a comment of the same
  // length (the source map's lines and columns stay right).
  const commandFile = join(outdir, 'governor-command.js');
  const command = readFileSync(commandFile, 'utf8');
  if (command.startsWith('#!')) writeFileSync(commandFile, `//${command.slice(2)}`);
  await esbuild({ ...options, entryPoints: { governor: 'bin/governor-entry.ts' } });
  await esbuild({
    ...options,
    entryPoints: { 'chain-worker-entry': 'persistence/integrity/chain-worker-entry.ts' },
  });
  await produceCodeCache(esbuild, options, outdir);
}

/**
 * The V8 code cache of dist/bin/governor-command.js (bin/code-cache.ts), made by running the
 * command once in a child, as an operator would: `status` of a database of the current schema
 * that nobody runs, created (with dist/'s Connection) in an empty directory, with an empty
 * configuration file and no other governor environment (it reads the configuration and the
 * database, read-only; the scratch directory is removed after). The child runs without NODE_OPTIONS: V8 rejects a cache made under other V8 flags.
 */
async function produceCodeCache(esbuild, options, outdir) {
  if (typeof crc32 !== 'function') {
    // The command's entry checks a cache with zlib.crc32: without it no cache is read either.
    console.warn(`node ${process.version} has no zlib.crc32 (20.15 or later): no code cache made`);
    return;
  }
  const scratch = mkdtempSync(join(tmpdir(), 'governor-code-cache-'));
  try {
    await esbuild({
      ...options,
      outdir: scratch,
      outExtension: { '.js': '.cjs' },
      sourcemap: false,
      entryPoints: { 'code-cache-produce': 'bin/code-cache-produce.ts' },
    });
    const producer = join(scratch, 'code-cache-produce.cjs');
    const env = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!key.startsWith('GOVERNOR_') && key !== 'NODE_OPTIONS') env[key] = value;
    }
    const config = join(scratch, 'governor.yaml');
    writeFileSync(config, '# empty: every default\n');
    // A database of the current schema that nobody runs: the status the cache is made from
    // opens and reads it, so the functions that reading compiles are in the cache too.
    const database = join(scratch, 'governor.db');
    const { Connection } = await import(
      pathToFileURL(join(ROOT, 'dist', 'persistence', 'connection.js')).href
    );
    Connection.open(database).close();
    const argv = ['status', '--db', database];
    const result = spawnSync(process.execPath, [producer, outdir, ...argv], {
      cwd: scratch,
      env: { ...env, GOVERNOR_CONFIG: config, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (!existsSync(join(outdir, 'governor-command.code-cache'))) {
      throw new Error(`the command's code cache was not made: ${result.stderr.toString()}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function build() {
  // A source saved while tsc runs is newer than the stamp, so the next start builds again.
  const startedSeconds = Date.now() / 1000;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) return result.status ?? 1;
  await bundleCommand();
  closeSync(openSync(STAMP, 'w'));
  utimesSync(STAMP, startedSeconds, startedSeconds);
  return 0;
}

const mode = process.argv[2];
const status = mode === '--always' || isStale() ? await build() : 0;
if (status !== 0 || mode !== '--start') {
  process.exitCode = status;
} else {
  // The command reads its arguments from process.argv: drop this script's own flag.
  process.argv.splice(2, 1);
  await import(pathToFileURL(join(ROOT, 'dist', 'bin', 'governor.js')).href);
}
