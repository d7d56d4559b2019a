/**
 * `governor --version`: the version in the package's own package.json, found by walking up
 * from this file (services/cli/ in the sources, dist/services/cli/ once built).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** How many directories up package.json may be (dist/services/cli → the package root is 3). */
const LEVELS_MAX = 5;

export function packageVersion(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level <= LEVELS_MAX; level++) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as {
        bin?: Record<string, unknown>;
        version?: unknown;
      };
      // The package that installs the `governor` command, whatever it is published as.
      if (typeof manifest.bin?.governor === 'string' && typeof manifest.version === 'string') {
        return manifest.version;
      }
    } catch {
      // not here: one level up
    }
    directory = dirname(directory);
  }
  return 'unknown';
}
