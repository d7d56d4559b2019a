#!/usr/bin/env node
/**
 * The build of dist/ (`tsc -p tsconfig.build.json`, then the `governor` command bundled into
 * dist/bin/ by esbuild), made only when a source changed since the last successful build (a
 * stamp in dist/ records when it began). `--always` builds regardless (`npm run build`);
 * `--start ARGS` then runs the built command with ARGS in this process (`npm start -- ARGS`).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
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
 * better-sqlite3 is CommonJS: imported from an ES module, Node first scans its sources for the
 * names it exports. The bundled command asks for it with `require` instead (the same module).
 */
const requireSqlite = {
  name: 'require-better-sqlite3',
  setup(build) {
    build.onResolve({ filter: /^better-sqlite3$/ }, () => ({
      path: 'better-sqlite3',
      namespace: 'require-better-sqlite3',
    }));
    build.onLoad({ filter: /.*/, namespace: 'require-better-sqlite3' }, () => ({
      contents: `import { createRequire } from 'node:module';
export default createRequire(import.meta.url)('better-sqlite3');`,
      loader: 'js',
    }));
  },
};

/**
 * The command as it ships: bin/governor.ts and everything it imports from the sources bundled
 * into dist/bin/governor.js, each lazily imported part (a command's code, the daemon) in chunks
 * beside it, loaded only when used, so that a short command reads a few files where it read
 * dozens of modules of dist/. Packages stay imports (better-sqlite3's native addon, ccxt, pg,
 * xstate, pino: installed with the package). The integrity walk's worker entry is a file of its
 * own beside them (its caller starts `./chain-worker-entry.js` beside itself). Whitespace and
 * syntax minified (less to parse at each start), names kept; source maps beside each file
 * (`node --enable-source-maps` shows the TypeScript sources' lines in a stack trace). The
 * library entry points (dist/index.js, testing.js, ccxt.js) stay tsc's output.
 */
async function bundleCommand() {
  const outdir = join(ROOT, 'dist', 'bin');
  // tsc's output of bin/governor.ts and the previous bundle's chunks; its declarations stay.
  for (const entry of readdirSync(outdir)) {
    if (!entry.endsWith('.d.ts')) rmSync(join(outdir, entry));
  }
  const { build: esbuild } = await import('esbuild');
  const options = {
    absWorkingDir: ROOT,
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    plugins: [requireSqlite],
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
  };
  await esbuild({ ...options, entryPoints: { governor: 'bin/governor.ts' }, splitting: true });
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
