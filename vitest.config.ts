/**
 * Test runner configuration. Three projects, each file in its own forked process:
 * - `unit` (`npm test`): unit, property and model tests, and in-process integration on
 *   temporary files: fast, no build needed.
 * - `e2e` (`npm run test:e2e`): real processes (the `governor` command from `dist/`, engines
 *   that embed governor, kill -9), real sockets and slow clients, Chromium, a real Alertmanager.
 * - `release` (`npm run test:release`): `npm pack`, install, a consumer's strict `tsc`.
 * CI runs all three (`.ci/run`).
 */
import { defineConfig } from 'vitest/config';

/** Files that spawn processes, hold real sockets for seconds, or drive a browser. */
const E2E = [
  'test/e2e/**/*.test.ts',
  'test/api/slowloris.test.ts',
  'test/api/connection-timeouts.test.ts',
  'test/api/status-page.test.ts',
  'test/alerts/alertmanager.test.ts',
  'test/integrity/worker-entry.test.ts',
  'test/integrity/workers.test.ts',
  'test/persistence/crash.test.ts',
  'examples/embedding/engine.test.ts',
];
const RELEASE = ['test/release/**/*.test.ts'];

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
          exclude: [...E2E, ...RELEASE],
        },
      },
      { extends: true, test: { name: 'e2e', include: E2E } },
      { extends: true, test: { name: 'release', include: RELEASE } },
    ],
  },
});
