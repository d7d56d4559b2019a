#!/usr/bin/env node
/**
 * The build of dist/ (`tsc -p tsconfig.build.json`), made only when a source changed since the
 * last successful build (a stamp in dist/ records when it began). `--always` builds regardless
 * (`npm run build`); `--start ARGS` then runs the built command with ARGS in this process
 * (`npm start -- ARGS`).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, statSync, utimesSync } from 'node:fs';
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

function build() {
  // A source saved while tsc runs is newer than the stamp, so the next start builds again.
  const startedSeconds = Date.now() / 1000;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) return result.status ?? 1;
  closeSync(openSync(STAMP, 'w'));
  utimesSync(STAMP, startedSeconds, startedSeconds);
  return 0;
}

const mode = process.argv[2];
const status = mode === '--always' || isStale() ? build() : 0;
if (status !== 0 || mode !== '--start') {
  process.exitCode = status;
} else {
  // The command reads its arguments from process.argv: drop this script's own flag.
  process.argv.splice(2, 1);
  await import(pathToFileURL(join(ROOT, 'dist', 'bin', 'governor.js')).href);
}
