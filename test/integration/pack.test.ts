/**
 * Goal: the published package works for an embedding project. `npm pack` (which runs `prepack`,
 * i.e. the build) produces a tarball that installs into a scratch project, and there
 * `import { Store, SimulatedClock } from 'governor'` works and a Store opens `:memory:`.
 * Slow on purpose: installing compiles better-sqlite3 (about a minute).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'governor-pack-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const SMOKE = `
import { Store, SimulatedClock } from 'governor';
const clock = new SimulatedClock({ wallStartMs: Date.UTC(2025, 11, 17) });
const store = Store.open(':memory:', { clock });
const appended = store.events.append({ eventType: 'PACK_TEST', reason: 'installed from the tarball' });
const verified = store.integrityScan.verifyChain();
process.stdout.write(JSON.stringify({ seq: appended.seq, ok: verified.ok, mode: store.systemState.get().desiredMode }));
store.close();
`;

describe('npm pack → install in a scratch project → import', () => {
  it('imports Store and SimulatedClock from the installed tarball and opens :memory:', () => {
    const packDirectory = join(scratch, 'pack');
    const projectDirectory = join(scratch, 'project');
    for (const directory of [packDirectory, projectDirectory]) {
      execFileSync('mkdir', ['-p', directory]);
    }
    npm(['pack', '--pack-destination', packDirectory], REPOSITORY_ROOT);
    const tarball = readdirSync(packDirectory).find((name) => name.endsWith('.tgz'));
    expect(tarball, 'npm pack wrote a tarball').toBeDefined();

    writeFileSync(
      join(projectDirectory, 'package.json'),
      JSON.stringify({
        name: 'governor-pack-scratch',
        version: '1.0.0',
        private: true,
        type: 'module',
      }),
    );
    npm(
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        join(packDirectory, tarball ?? ''),
      ],
      projectDirectory,
    );

    const output = execFileSync(process.execPath, ['--input-type=module', '-e', SMOKE], {
      cwd: projectDirectory,
      encoding: 'utf8',
    });
    expect(JSON.parse(output)).toEqual({ seq: 1, ok: true, mode: 'OBSERVE_ONLY' });
  }, 900_000);
});
