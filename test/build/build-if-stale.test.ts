/**
 * Goal: `npm start` builds dist/ only when a source changed (it rebuilt every time: `npm start
 * -- --version` took 5.5 s), yet never runs a build older than its sources. The real script runs
 * in a scratch copy of the repository's layout whose `typescript/bin/tsc` is a stand-in that
 * records each build, and whose `esbuild` is a stand-in that writes a `dist/bin/governor.js`
 * printing its arguments (and a code cache's maker that writes a placeholder cache), with a
 * stand-in for the store's connection and better-sqlite3's manifest.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A stand-in for tsc: records the build, fails when FAIL_BUILD exists, else writes dist/. */
const FAKE_TSC = `
const { appendFileSync, existsSync, mkdirSync, writeFileSync } = require('node:fs');
appendFileSync('builds.log', 'build\\n');
if (existsSync('FAIL_BUILD')) { console.error('error TS2322: broken'); process.exit(2); }
mkdirSync('dist/bin', { recursive: true });
writeFileSync('dist/bin/governor.js', 'tsc output, replaced by the bundle');
// The store's connection, with which the build creates the database its code cache's run reads.
mkdirSync('dist/persistence', { recursive: true });
writeFileSync('dist/persistence/connection.js', 'import { writeFileSync } from "node:fs"; export const Connection = { open: (path) => (writeFileSync(path, ""), { close() {} }) };');
`;

/**
 * A stand-in for esbuild: each entry a file that prints its arguments, but the code cache's
 * maker, a file that writes a cache into the directory it is given.
 */
const FAKE_ESBUILD = `
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const MAKER = 'require("node:fs").writeFileSync(require("node:path").join(process.argv[2], "governor-command.code-cache"), "cache");\\n';
exports.build = async ({ outdir, entryPoints, outExtension }) => {
  for (const name of Object.keys(entryPoints)) {
    const file = join(outdir, name + (outExtension?.['.js'] ?? '.js'));
    if (name === 'code-cache-produce') writeFileSync(file, MAKER);
    else writeFileSync(file, 'console.log("governor " + process.argv.slice(2).join(" "));\\n');
  }
};
`;

const scratches: string[] = [];
afterEach(() => {
  for (const scratch of scratches.splice(0)) rmSync(scratch, { recursive: true, force: true });
});

function scratchRepository(): string {
  const root = mkdtempSync(join(tmpdir(), 'governor-start-'));
  scratches.push(root);
  mkdirSync(join(root, 'bin'));
  copyFileSync(
    join(REPO_ROOT, 'bin', 'build-if-stale.mjs'),
    join(root, 'bin', 'build-if-stale.mjs'),
  );
  for (const directory of ['machines', 'services', 'persistence']) {
    mkdirSync(join(root, directory));
    writeFileSync(join(root, directory, 'module.ts'), 'export {};\n');
  }
  for (const file of ['index.ts', 'testing.ts', 'tsconfig.json', 'tsconfig.build.json']) {
    writeFileSync(join(root, file), '\n');
  }
  writeFileSync(join(root, 'package.json'), '{"type":"module"}\n');
  mkdirSync(join(root, 'node_modules', 'typescript', 'bin'), { recursive: true });
  writeFileSync(join(root, 'node_modules', 'typescript', 'bin', 'tsc'), FAKE_TSC);
  mkdirSync(join(root, 'node_modules', 'esbuild'));
  writeFileSync(join(root, 'node_modules', 'esbuild', 'index.js'), FAKE_ESBUILD);
  // The build bundles better-sqlite3's JavaScript for this version (the stand-in bundles nothing).
  mkdirSync(join(root, 'node_modules', 'better-sqlite3'));
  writeFileSync(
    join(root, 'node_modules', 'better-sqlite3', 'package.json'),
    '{"version":"0.0.0"}\n',
  );
  return root;
}

function start(root: string, ...args: string[]): { code: number | null; stdout: string } {
  const result = spawnSync(process.execPath, ['bin/build-if-stale.mjs', '--start', ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout };
}

const builds = (root: string): number =>
  existsSync(join(root, 'builds.log'))
    ? readFileSync(join(root, 'builds.log'), 'utf8').split('\n').filter(Boolean).length
    : 0;

const SOURCES = ['index.ts', 'testing.ts', 'machines', 'services', 'persistence', 'bin'];

/**
 * Moves every source 100 s into the past and the stamp of the last build 50 s: what follows is
 * a start long after the last build, and a file written now is newer than that build.
 */
function settle(root: string): void {
  const at = (secondsAgo: number): number => Date.now() / 1000 - secondsAgo;
  const age = (path: string): void => {
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path)) age(join(path, entry));
    }
    utimesSync(path, at(100), at(100));
  };
  for (const source of [...SOURCES, 'tsconfig.json', 'tsconfig.build.json', 'package.json']) {
    age(join(root, source));
  }
  const stamp = join(root, 'dist', '.build-stamp');
  if (existsSync(stamp)) utimesSync(stamp, at(50), at(50));
}

describe('npm start (bin/build-if-stale.mjs --start)', () => {
  it('builds a clean clone once, then starts without building (it rebuilt on every start)', () => {
    const root = scratchRepository();
    expect(start(root, '--version')).toEqual({ code: 0, stdout: 'governor --version\n' });
    expect(builds(root)).toBe(1);
    settle(root);
    expect(start(root, 'run', '--db', './demo.db', '--demo')).toEqual({
      code: 0,
      stdout: 'governor run --db ./demo.db --demo\n',
    });
    expect(builds(root)).toBe(1);
  });

  it('builds again when a source changed, was added or removed', () => {
    const root = scratchRepository();
    start(root, '--version');
    settle(root);
    writeFileSync(join(root, 'services', 'module.ts'), 'export const changed = 1;\n');
    start(root, '--version');
    expect(builds(root)).toBe(2);
    settle(root);
    writeFileSync(join(root, 'persistence', 'added.ts'), 'export {};\n');
    start(root, '--version');
    expect(builds(root)).toBe(3);
    settle(root);
    rmSync(join(root, 'machines', 'module.ts'));
    start(root, '--version');
    expect(builds(root)).toBe(4);
    settle(root);
    start(root, '--version');
    expect(builds(root)).toBe(4);
  });

  it('a failed build does not start, and the next start builds again', () => {
    const root = scratchRepository();
    start(root, '--version');
    settle(root);
    writeFileSync(join(root, 'FAIL_BUILD'), '');
    writeFileSync(join(root, 'services', 'module.ts'), 'export const broken: number = "";\n');
    expect(start(root, '--version')).toEqual({ code: 2, stdout: '' });
    rmSync(join(root, 'FAIL_BUILD'));
    expect(start(root, '--version')).toEqual({ code: 0, stdout: 'governor --version\n' });
    expect(builds(root)).toBe(3);
  });
});
