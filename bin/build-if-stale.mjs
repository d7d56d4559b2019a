#!/usr/bin/env node
/**
 * The build of dist/ (`tsc -p tsconfig.build.json`, then the `governor` command bundled into
 * one file, dist/bin/governor.js, by esbuild), made only when a source changed since the last successful build (a
 * stamp in dist/ records when it began). `--always` builds regardless (`npm run build`);
 * `--start ARGS` then runs the built command with ARGS in this process (`npm start -- ARGS`).
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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
 * into one CommonJS file, dist/bin/governor.js (dist/bin/package.json says so), with the
 * integrity walk's worker entry beside it (its caller starts `./chain-worker-entry.js` beside
 * itself). A short command then reads one file, where it loaded dozens of ES modules of dist/
 * through Node's ES module loader, whose cost per module was most of its start. A lazily
 * imported module (a command's code, the daemon) still runs only when imported, and the packages
 * it imports are required only then: packages stay outside the file (better-sqlite3's native
 * addon, ccxt, pg, xstate, pino: installed with the package). `import.meta.url` is this file's
 * URL; `import.meta.resolve` is used only when running from the TypeScript sources. Whitespace
 * and syntax minified, names kept; a source map beside each file (`node --enable-source-maps`
 * shows the TypeScript sources' lines in a stack trace). The library entry points
 * (dist/index.js, testing.js, ccxt.js) stay tsc's ES modules.
 */
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
    packages: 'external',
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
  await esbuild({ ...options, entryPoints: { governor: 'bin/governor.ts' } });
  await esbuild({
    ...options,
    entryPoints: { 'chain-worker-entry': 'persistence/integrity/chain-worker-entry.ts' },
  });
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
