/**
 * Goal: the layering of .dependency-cruiser.cjs holds and bites. `npm run depcheck` finds no
 * violation in the tree; in a copy of the tree, one probe module per rule breaks it and the same
 * configuration names that rule and that probe.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = process.cwd();
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');
const TARGETS = [
  'services',
  'persistence',
  'machines',
  'bin',
  'index.ts',
  'testing.ts',
  'ccxt.ts',
  'examples',
];

function depcruise(cwd: string): { status: number | null; output: string } {
  const run = spawnSync(DEPCRUISE, ['--config', '.dependency-cruiser.cjs', ...TARGETS], {
    cwd,
    encoding: 'utf8',
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Each rule, and a probe (path, source) that breaks it. */
const PROBES: ReadonlyArray<readonly [rule: string, path: string, source: string]> = [
  [
    'no-cycles',
    'services/probe-cycle-a.ts',
    "import { b } from './probe-cycle-b.js';\nexport const a = b;\n",
  ],
  // The core's probe is an import added to services/clock.ts (below).
  ['core-is-pure', 'services/clock.ts', ''],
  [
    'machines-pure',
    'machines/probe.ts',
    "import { readFileSync } from 'node:fs';\nexport const probe = readFileSync;\n",
  ],
  [
    'persistence-imports-core-only',
    'persistence/probe.ts',
    "import { createLogger } from '../services/logger.js';\nexport const probe = createLogger;\n",
  ],
  [
    'components-never-import-the-governor',
    'services/health/probe.ts',
    "import { GovernanceSystem } from '../governor/governance-system.js';\nexport const probe = GovernanceSystem;\n",
  ],
  [
    'fleet-is-a-component',
    'services/fleet/probe.ts',
    "import { GovernanceSystem } from '../governor/governance-system.js';\nexport const probe = GovernanceSystem;\n",
  ],
  [
    'postgres-only-in-persistence-fleet',
    'services/governor/probe-pg.ts',
    "import pg from 'pg';\nexport const probe = pg;\n",
  ],
  [
    'governor-never-imports-the-shell',
    'services/governor/probe.ts',
    "import { startApiServer } from '../api/server.js';\nexport const probe = startApiServer;\n",
  ],
  [
    'cli-persistence-types-only',
    'services/cli/probe.ts',
    "import { Store } from '../../persistence/store.js';\nexport const probe = Store;\n",
  ],
  [
    'ownership-in-one-module',
    'services/governor/probe-owner-lock.ts',
    "import { OwnerLock } from '../../persistence/owner-lock.js';\nexport const probe = OwnerLock;\n",
  ],
  [
    'ownership-through-its-index',
    'services/cli/probe-ownership.ts',
    "import { acquireOwnerLock } from '../governor/ownership/take.js';\nexport const probe = acquireOwnerLock;\n",
  ],
  [
    'source-never-imports-tests',
    'services/governor/probe-tests.ts',
    "import { makeHarness } from '../../test/support/harness.js';\nexport const probe = makeHarness;\n",
  ],
  [
    'main-entry-never-loads-ccxt',
    'services/governor/probe-ccxt.ts',
    "import { ccxtVenue } from '../venues/ccxt-venue.js';\nexport const probe = ccxtVenue;\n",
  ],
  [
    'ccxt-loaded-lazily',
    'services/venues/probe-ccxt-static.ts',
    "import ccxt from 'ccxt';\nexport const probe = ccxt;\n",
  ],
  [
    'examples-use-the-public-api',
    'examples/probe.ts',
    "import { Store } from '../persistence/store.js';\nexport const probe = Store;\n",
  ],
  [
    'api-no-exchange-adapters',
    'services/api/probe-adapter.ts',
    "import { adapter } from '../exchange-adapter.js';\nexport const probe = adapter;\n",
  ],
  [
    'api-no-persistence-values',
    'services/api/probe-persistence.ts',
    "import { EventLog } from '../../persistence/event-log.js';\nexport const probe = EventLog;\n",
  ],
  [
    'api-no-sqlite',
    'services/api/probe-sqlite.ts',
    "import Database from 'better-sqlite3';\nexport const probe = Database;\n",
  ],
  [
    'sqlite-only-in-persistence',
    'services/governor/probe-sqlite.ts',
    "import Database from 'better-sqlite3';\nexport const probe = Database;\n",
  ],
  [
    'api-shell-types-only',
    'services/api/probe-governor.ts',
    "import { GovernanceSystem } from '../governor/governance-system.js';\nexport const probe = GovernanceSystem;\n",
  ],
];

describe('the layering rules (.dependency-cruiser.cjs)', () => {
  let copy = '';
  let broken: { status: number | null; output: string };

  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'governor-depcruise-'));
    for (const entry of [
      ...TARGETS,
      'test',
      '.dependency-cruiser.cjs',
      'tsconfig.json',
      'package.json',
    ]) {
      cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
    }
    mkdirSync(join(copy, 'node_modules'));
    for (const name of ['better-sqlite3', 'xstate', 'pg']) {
      cpSync(join(ROOT, 'node_modules', name), join(copy, 'node_modules', name), {
        recursive: true,
        dereference: true,
      });
    }
    writeFileSync(join(copy, 'services', 'exchange-adapter.ts'), 'export const adapter = 1;\n');
    writeFileSync(
      join(copy, 'services', 'probe-cycle-b.ts'),
      "import { a } from './probe-cycle-a.js';\nexport const b = 1;\nexport const again = () => a;\n",
    );
    for (const [, path, source] of PROBES) {
      if (source === '') continue;
      mkdirSync(dirname(join(copy, path)), { recursive: true });
      writeFileSync(join(copy, path), source);
    }
    // The core breaks its rule when one of its files imports a non-core module.
    const core = join(copy, 'services', 'clock.ts');
    writeFileSync(
      core,
      `import { createLogger } from './logger.js';\nexport const coreProbe = createLogger;\n${readFileSync(core, 'utf8')}`,
    );
    broken = depcruise(copy);
  }, 120_000);

  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('the tree as it is breaks none (the CI command)', () => {
    const run = depcruise(ROOT);
    expect(run.output).toContain('no dependency violations found');
    expect(run.status).toBe(0);
  });

  it.each(PROBES.map(([rule, path]) => [rule, path] as const))(
    'rule %s names the probe that breaks it (%s)',
    (rule, path) => {
      expect(broken.status).not.toBe(0);
      const lines = broken.output.split('\n').filter((line) => line.includes(`error ${rule}:`));
      expect(
        lines.some((line) => line.includes(path)),
        `${rule}:\n${lines.join('\n')}`,
      ).toBe(true);
    },
  );
});
