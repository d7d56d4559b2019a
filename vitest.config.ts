/**
 * Test runner configuration. Four projects, each file in a forked process:
 * - `unit` (`npm test`): unit, property and model tests, and in-process integration on
 *   temporary files: fast, no build needed.
 * - `e2e` (`npm run test:e2e`): real processes (the `governor` command from `dist/`, engines
 *   that embed governor, kill -9), real sockets and slow clients, Chromium, a real Alertmanager.
 * - `slow` (`npm run test:slow`): the simulator's other seeds and the proof its checker bites,
 *   the model checker's mutants, the safety rules' source mutants and the layering rules over
 *   a copied tree.
 * - `release` (`npm run test:release`): `npm pack`, install, a consumer's strict `tsc`.
 * CI runs all four (`.ci/run`). The unit project uses both cores of the 2-core box (vitest's
 * default leaves one idle); the others keep one worker, their timings are real.
 */
import { accessSync, constants } from 'node:fs';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * The unit project's temporary directory: memory-backed /dev/shm (tmpfs) when the box has one.
 * Its tests open SQLite files with synchronous=FULL, and on a disk each commit waits for an
 * fsync: a file that runs a governor for simulated days spent most of its time there. tmpfs
 * keeps every file semantic the tests use (WAL, locks, rename, links, a killed process's
 * writes); only a power loss would differ, and no unit test can produce one. The simulator and
 * the fault tests already put their files there. The e2e project keeps the disk.
 */
function memoryBackedTmpdir(): string | undefined {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return undefined;
  }
}
const UNIT_TMPDIR = memoryBackedTmpdir();

/** Files that spawn processes, hold real sockets for seconds, or drive a browser. */
const E2E = [
  'test/e2e/**/*.test.ts',
  'test/bin/**/*.test.ts',
  'test/services/api/slowloris.test.ts',
  'test/services/api/connection-timeouts.test.ts',
  'test/services/api/status-page.test.ts',
  'test/services/alerts/alertmanager.test.ts',
  'test/persistence/integrity/worker-entry.test.ts',
  'test/persistence/integrity/workers.test.ts',
  'test/persistence/crash.test.ts',
  'test/persistence/prune-crash.test.ts',
  'test/services/governor/incident-crash.test.ts',
  'examples/embedding/engine.test.ts',
  'test/fleet/**/*.test.ts',
];
const RELEASE = ['test/release/**/*.test.ts'];
/** Long runs: the simulator's other seeds, mutation runs (statechart and sources), the layering rules over a copied tree. */
const SLOW = [
  'test/sim/soak.test.ts',
  'test/sim/checker.test.ts',
  'test/machines/mutants.test.ts',
  'test/services/safety-mutants.test.ts',
  'test/architecture/**/*.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: `test-artifacts/vitest${process.env.VITEST_PROJECT_TAG ?? ''}.json` },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: [...E2E, ...RELEASE, ...SLOW],
          maxWorkers: Math.max(2, availableParallelism() - 1),
          // One module graph per worker, not per file: a third of the time was imports. Every
          // test builds its own governor on its own files, so no state is shared between files.
          isolate: false,
          ...(UNIT_TMPDIR === undefined ? {} : { env: { TMPDIR: UNIT_TMPDIR } }),
        },
      },
      {
        extends: true,
        test: { name: 'e2e', include: E2E, globalSetup: ['test/e2e/global-setup.ts'] },
      },
      { extends: true, test: { name: 'slow', include: SLOW } },
      { extends: true, test: { name: 'release', include: RELEASE } },
    ],
  },
});
