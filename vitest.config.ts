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
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

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
          // Temporary files in a directory of the run's own on memory-backed /dev/shm, removed
          // at its end: SQLite commits no longer wait for a disk fsync (the simulator and the
          // fault tests already used /dev/shm). Only a power loss would tell the two apart.
          globalSetup: ['test/support/unit-tmpdir.ts'],
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
