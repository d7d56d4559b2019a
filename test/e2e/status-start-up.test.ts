/**
 * Goal: `governor status` read from the database starts as little as it needs (it took 2.2 to
 * 2.65 times a bare `node -e 0`: two SQLite connections to the database, a probe then the
 * store's, an owner check that wrote and fsynced a journal, and node:crypto loaded for a read
 * that hashes nothing). The command runs from dist/ with a preload that records every SQLite
 * connection it opens and, at exit, Node's own modules it loaded. `bench/cli.ts` measures the
 * time; this checks what the time is made of, without a clock.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type CliSandbox, GOVERNOR_BIN, perTestResources, REPO_ROOT } from './cli-harness.js';

const { sandbox } = perTestResources();

/** Stands in for better-sqlite3 (through the resolve hook below): logs each connection's options. */
const RECORDED_SQLITE = `
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const Database = createRequire(process.env.REPO_ROOT + '/package.json')('better-sqlite3');
function Recorded(filename, options) {
  appendFileSync(process.env.SQLITE_OPEN_LOG, JSON.stringify({ filename, readonly: options?.readonly === true }) + '\\n');
  return new Database(filename, options);
}
Object.assign(Recorded, Database);
Recorded.prototype = Database.prototype;
export default Recorded;
`;

const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (specifier === 'better-sqlite3') {
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

function runStatus(dir: string, box: CliSandbox, preload: string[]): Promise<void> {
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
        },
      },
      (error, _stdout, stderr) => {
        if (error !== null) reject(new Error(`status failed: ${stderr}`));
        else resolve();
      },
    );
  });
}

/**
 * The connections `governor status` opens, the modules of dist/ it loads, and Node's own modules
 * it loads (two runs).
 */
async function statusRecorded(
  box: CliSandbox,
): Promise<{ opens: unknown[]; modules: string[]; builtins: string[] }> {
  const dir = join(box.dir, 'recorder');
  mkdirSync(dir);
  writeFileSync(join(dir, 'recorded-sqlite.mjs'), RECORDED_SQLITE);
  writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
  writeFileSync(join(dir, 'register.mjs'), REGISTER);
  writeFileSync(join(dir, 'builtins.cjs'), BUILTINS);
  writeFileSync(join(dir, 'sqlite-open.log'), '');
  writeFileSync(join(dir, 'modules.log'), '');
  await runStatus(dir, box, ['--import', pathToFileURL(join(dir, 'register.mjs')).href]);
  await runStatus(dir, box, ['--require', join(dir, 'builtins.cjs')]);
  const opens = readFileSync(join(dir, 'sqlite-open.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as unknown);
  const dist = pathToFileURL(join(REPO_ROOT, 'dist')).href;
  const modules = readFileSync(join(dir, 'modules.log'), 'utf8')
    .split('\n')
    .filter((url) => url.startsWith(`${dist}/`))
    .map((url) => url.slice(dist.length + 1));
  return { opens, modules, builtins: readFileSync(join(dir, 'builtins.log'), 'utf8').split('\n') };
}

describe('governor status with nobody running', () => {
  it('opens the database once, read-only, checks the owner read-only, loads no node:crypto and none of the repositories it does not read (it opened the database twice and loaded crypto and every repository)', async () => {
    const box = sandbox();
    const daemon = box.startDaemon();
    await box.waitForStatus((s) => s.state === 'AGGRESSIVE', daemon);
    await box.stopDaemon(daemon);

    const { opens, modules, builtins } = await statusRecorded(box);
    expect(opens).toEqual([
      { filename: box.dbPath, readonly: true },
      { filename: `${box.dbPath}.owner`, readonly: true },
    ]);
    // The core of the store only: none of the repositories a status read does not use.
    expect(modules).toContain('persistence/store-core.js');
    expect(modules).not.toContain('persistence/store.js');
    expect(modules).not.toContain('persistence/capital.js');
    expect(modules.filter((path) => path.startsWith('persistence/integrity/'))).toEqual([]);
    expect(builtins).toContain('NativeModule net');
    expect(builtins).not.toContain('NativeModule crypto');
    expect(builtins).not.toContain('NativeModule perf_hooks');
    expect(builtins).not.toContain('NativeModule worker_threads');
  });
});
