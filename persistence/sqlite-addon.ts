/**
 * Where better-sqlite3's compiled addon lies, given to each connection as `nativeBinding`: left
 * to itself, better-sqlite3 finds it through the `bindings` package, which reads a stack trace
 * and tries a dozen paths, the largest part of the first open of a short command.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let addonPath: string | null | undefined;

/** `{ nativeBinding }` when the addon is where an npm install builds it; else `{}` (the default search). */
export function nativeBindingOption(): { nativeBinding?: string } {
  if (addonPath === undefined) {
    try {
      const packageJson = createRequire(import.meta.url).resolve('better-sqlite3/package.json');
      const candidate = join(dirname(packageJson), 'build', 'Release', 'better_sqlite3.node');
      addonPath = existsSync(candidate) ? candidate : null;
    } catch {
      addonPath = null;
    }
  }
  return addonPath === null ? {} : { nativeBinding: addonPath };
}
