/**
 * The e2e project's one build: dist/ compiled from the sources once per run (`tsc -p
 * tsconfig.build.json`), so every test runs the command as it ships, under plain node.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function buildOnce(): void {
  const root = process.cwd();
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: root, stdio: 'inherit' },
  );
}
