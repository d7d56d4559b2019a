/**
 * The e2e project's one build: dist/ built from the sources once per run (`npm run build`: tsc,
 * then the command bundled into dist/bin/), so every test runs the command as it ships, under
 * plain node.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function buildOnce(): void {
  const root = process.cwd();
  execFileSync(process.execPath, [join(root, 'bin', 'build-if-stale.mjs'), '--always'], {
    cwd: root,
    stdio: 'inherit',
  });
}
