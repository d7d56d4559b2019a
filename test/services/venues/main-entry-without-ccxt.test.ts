/**
 * Goal: an engine that imports the main entry (index.ts) loads nothing of ccxt, an optional peer
 * dependency, and neither does the ccxt entry point itself (the adapter types the client it is
 * given). A child process resolves modules through a hook that refuses any file of ccxt; the
 * control proves the hook bites.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = process.cwd();
const TSX_IMPORT = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const dir = mkdtempSync(join(tmpdir(), 'governor-no-ccxt-'));
writeFileSync(
  join(dir, 'hooks.mjs'),
  `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.includes('/node_modules/ccxt/')) throw new Error('LOADED CCXT: ' + resolved.url);
  return resolved;
}
`,
);
writeFileSync(
  join(dir, 'register.mjs'),
  `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function importInChild(paths: readonly string[]): { status: number | null; output: string } {
  const imports = paths.map(
    (path) =>
      `await import(${JSON.stringify(path.startsWith('/') ? pathToFileURL(path).href : path)});`,
  );
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      TSX_IMPORT,
      '--import',
      pathToFileURL(join(dir, 'register.mjs')).href,
      '--input-type=module',
      '-e',
      `${imports.join(' ')} console.log('imported ${paths.length}');`,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('ccxt stays out of the main entry', () => {
  it('importing index.ts, then ccxt.ts (the adapter), loads no file of ccxt', () => {
    const run = importInChild([join(ROOT, 'index.ts'), join(ROOT, 'ccxt.ts')]);
    expect(run.output).toContain('imported 2');
    expect(run.status).toBe(0);
  });

  it('control: importing ccxt itself is caught by the hook', () => {
    const run = importInChild(['ccxt']);
    expect(run.output).toContain('LOADED CCXT');
    expect(run.status).not.toBe(0);
  });
});
