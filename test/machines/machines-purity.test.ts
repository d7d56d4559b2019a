/**
 * Keeps `machines/` pure (DESIGN.md: "machines/ imports no I/O"): every file there may import
 * only `xstate` (and its subpaths) and local files of `machines/`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const machinesDirectory = resolve(dirname(fileURLToPath(import.meta.url)), '../../machines');

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Every module specifier of static imports, re-exports and dynamic imports in `source`. */
function importSpecifiers(source: string): string[] {
  const patterns = [
    /\bimport\s+(?:type\s+)?(?:[\w*{}\s,]+\s+from\s+)?['"]([^'"]+)['"]/g,
    /\bexport\s+(?:type\s+)?[\w*{}\s,]+\s+from\s+['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) =>
    [...source.matchAll(pattern)].map((match) => match[1] ?? ''),
  );
}

function allowed(specifier: string, file: string): boolean {
  if (specifier === 'xstate' || specifier.startsWith('xstate/')) return true;
  if (!specifier.startsWith('.')) return false;
  return resolve(dirname(file), specifier).startsWith(machinesDirectory);
}

describe('machines/ purity', () => {
  const files = sourceFiles(machinesDirectory);

  it('finds the machine files and reads their imports', () => {
    // Goal: the check below is not vacuous.
    expect(files.some((file) => file.endsWith('governor-machine.ts'))).toBe(true);
    const machineSource = readFileSync(join(machinesDirectory, 'governor-machine.ts'), 'utf8');
    expect(importSpecifiers(machineSource)).toContain('xstate');
    expect(importSpecifiers("import { x } from 'node:fs'; export * from './a.js';")).toEqual([
      'node:fs',
      './a.js',
    ]);
  });

  it('imports only xstate and local machines/ files', () => {
    // Goal: no node:*, no services/, no persistence/, no third-party package sneaks in.
    const offending = files.flatMap((file) =>
      importSpecifiers(readFileSync(file, 'utf8'))
        .filter((specifier) => !allowed(specifier, file))
        .map((specifier) => `${file}: ${specifier}`),
    );
    expect(offending).toEqual([]);
  });
});
