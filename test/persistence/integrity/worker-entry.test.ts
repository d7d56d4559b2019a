/**
 * Goal: the chain walk's worker threads start however governor runs. Inside vitest it is
 * covered by workers.test.ts; here, the real `governor verify` command run from the TypeScript
 * sources (`node --import tsx`), the compiled JavaScript (`tsc` output run by plain node, as
 * the library in `dist/` is) and the command as built (`dist/bin/governor.js`, one bundled file
 * with the worker's entry beside it) all verify a log of 60,000 events in workers and report
 * what the in-thread verifier reports.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import { DataIntegrityVerifier } from '../../../persistence/integrity/index.js';
import { openRaw } from '../../support/corrupt.js';
import { appendRawEvents } from '../../support/raw-log.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Above the default parallelEventsMin (50,000): `governor verify` uses workers. */
const EVENTS = 60_000;
const EDITED_SEQ = 30_001;

let dir: string;
let dbPath: string;
let expected: { violations: unknown[]; eventsChecked: number };

/** The worker threads a default verifier uses here (none on one core). */
const workersHere =
  Math.min(availableParallelism(), 4) >= 2 ? Math.min(availableParallelism(), 4) : 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'governor-worker-entry-'));
  dbPath = join(dir, 'entry.db');
  appendRawEvents(dbPath, EVENTS);
  const raw = openRaw(dbPath);
  raw.prepare("UPDATE events SET reason = 'edited' WHERE seq = ?").run(EDITED_SEQ);
  raw.close();
  const store = Store.open(dbPath, { readonly: true });
  try {
    const verifier = new DataIntegrityVerifier(store, {
      writeAnchor: false,
      structureCheck: 'all',
    });
    const violations = verifier.verify({ full: true });
    expected = { violations, eventsChecked: verifier.getLastRun()?.eventsChecked ?? 0 };
  } finally {
    store.close();
  }
  expect(expected.violations).not.toEqual([]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('worker threads in every way governor runs', () => {
  it('from the TypeScript sources: `node --import tsx bin/governor.ts verify --full --json`', () => {
    let stdout = '';
    try {
      execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          join(REPO_ROOT, 'bin', 'governor.ts'),
          'verify',
          '--full',
          '--json',
          '--db',
          dbPath,
        ],
        { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
      );
    } catch (error) {
      // Exit 4: violations found (the edited event), as expected.
      stdout = (error as { stdout: string; status: number }).stdout;
      expect((error as { status: number }).status).toBe(4);
    }
    const result = JSON.parse(stdout) as {
      violations: unknown[];
      run: { eventsChecked: number; workers: number };
    };
    expect(result.violations).toEqual(expected.violations);
    expect(result.run.eventsChecked).toBe(expected.eventsChecked);
    expect(result.run.workers).toBe(workersHere);
  });

  it('the command as built, one bundled file run by plain node: `node dist/bin/governor.js verify --full --json`', () => {
    let stdout = '';
    try {
      execFileSync(
        process.execPath,
        [
          join(REPO_ROOT, 'dist', 'bin', 'governor.js'),
          'verify',
          '--full',
          '--json',
          '--db',
          dbPath,
        ],
        { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
      );
    } catch (error) {
      // Exit 4: violations found (the edited event), as expected.
      stdout = (error as { stdout: string; status: number }).stdout;
      expect((error as { status: number }).status).toBe(4);
    }
    const result = JSON.parse(stdout) as {
      violations: unknown[];
      run: { eventsChecked: number; workers: number };
    };
    expect(result.violations).toEqual(expected.violations);
    expect(result.run.eventsChecked).toBe(expected.eventsChecked);
    expect(result.run.workers).toBe(workersHere);
  });

  it('compiled to JavaScript by tsc and run by plain node (what dist/ is)', () => {
    const out = join(dir, 'build');
    execFileSync(
      process.execPath,
      [
        join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        join(REPO_ROOT, 'persistence', 'integrity', 'index.ts'),
        join(REPO_ROOT, 'persistence', 'index.ts'),
        ...['--outDir', out, '--rootDir', REPO_ROOT, '--module', 'NodeNext'],
        ...['--moduleResolution', 'NodeNext', '--target', 'ES2022', '--types', 'node'],
        ...['--skipLibCheck', '--esModuleInterop'],
      ],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    // Resolve better-sqlite3 as dist/ would, and load the output as ES modules.
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
    writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
    mkdirSync(join(out, 'check'), { recursive: true });
    const driver = join(out, 'check', 'verify.js');
    writeFileSync(
      driver,
      `import { Store } from '../persistence/index.js';
import { DataIntegrityVerifier } from '../persistence/integrity/index.js';
const store = Store.open(${JSON.stringify(dbPath)}, { readonly: true });
const verifier = new DataIntegrityVerifier(store, { writeAnchor: false, structureCheck: 'all' });
const violations = await verifier.verifyAsync({ full: true });
store.close();
process.stdout.write(JSON.stringify({ violations, run: verifier.getLastRun() }));
`,
    );
    const result = JSON.parse(execFileSync(process.execPath, [driver], { encoding: 'utf8' })) as {
      violations: unknown[];
      run: { eventsChecked: number; workers: number };
    };
    expect(result.violations).toEqual(expected.violations);
    expect(result.run.eventsChecked).toBe(expected.eventsChecked);
    expect(result.run.workers).toBe(workersHere);
  });
});
