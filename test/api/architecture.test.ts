/**
 * Goal: the health API's architecture rule holds and bites. `npm run depcheck` finds no
 * violation in the tree, and the same configuration rejects a services/api module that
 * imports an exchange adapter, a persistence write path, SQLite, or the governor as a value.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = process.cwd();
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');

function depcruise(cwd: string, targets: string[]): { status: number | null; output: string } {
  const run = spawnSync(DEPCRUISE, ['--config', '.dependency-cruiser.cjs', ...targets], {
    cwd,
    encoding: 'utf8',
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('dependency-cruiser rules for services/api', () => {
  it('the tree as it is has no violation (the CI command)', () => {
    // bin/ holds the command line; depcruise refuses a missing target.
    const targets = ['services', 'persistence', 'machines', 'bin', 'index.ts'].filter((target) =>
      existsSync(join(ROOT, target)),
    );
    const run = depcruise(ROOT, targets);
    expect(run.output).toContain('no dependency violations found');
    expect(run.status).toBe(0);
  });

  it('rejects an API module that imports an adapter, a write path, SQLite or the governor as a value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'governor-depcruise-'));
    try {
      for (const folder of ['services', 'persistence', 'machines']) {
        cpSync(join(ROOT, folder), join(dir, folder), { recursive: true });
      }
      cpSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
      cpSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
      cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
      mkdirSync(join(dir, 'node_modules'));
      cpSync(
        join(ROOT, 'node_modules', 'better-sqlite3'),
        join(dir, 'node_modules', 'better-sqlite3'),
        {
          recursive: true,
          dereference: true,
        },
      );
      mkdirSync(join(dir, 'examples'));
      writeFileSync(join(dir, 'examples', 'paper-exchange.ts'), 'export const exchange = 1;\n');
      writeFileSync(join(dir, 'services', 'exchange-adapter.ts'), 'export const adapter = 1;\n');
      writeFileSync(
        join(dir, 'services', 'api', 'probe.ts'),
        [
          "import { exchange } from '../../examples/paper-exchange.js';",
          "import { adapter } from '../exchange-adapter.js';",
          "import { EventLog } from '../../persistence/event-log.js';",
          "import Database from 'better-sqlite3';",
          "import { GovernanceSystem } from '../governor/governance-system.js';",
          'export const probe = [exchange, adapter, EventLog, Database, GovernanceSystem];',
          '',
        ].join('\n'),
      );
      const run = depcruise(dir, ['services', 'persistence', 'machines']);
      expect(run.status).not.toBe(0);
      for (const rule of [
        'api-no-exchange-adapters',
        'api-no-persistence-values',
        'api-no-sqlite',
        'api-shell-types-only',
      ]) {
        expect(run.output, rule).toContain(rule);
      }
      expect(run.output).toContain('services/api/probe.ts → examples/paper-exchange.ts');
      expect(run.output).toContain('services/api/probe.ts → persistence/event-log.ts');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
