/**
 * Goal: one catalogue of governor's own event types, each documented in docs/schema.md (as
 * every error code is in docs/errors.md), and every type governor writes is in it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GOVERNOR_EVENT_TYPES } from '../../persistence/event-types.js';

const root = join(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the event type catalogue', () => {
  it('documents every event type governor writes in docs/schema.md', () => {
    const schema = readFileSync(join(root, 'docs', 'schema.md'), 'utf8');
    for (const type of Object.keys(GOVERNOR_EVENT_TYPES)) {
      expect(schema, type).toContain(`| \`${type}\` |`);
    }
  });

  it('lists every event type that governor code appends', () => {
    const written = new Set<string>();
    for (const file of [...sourceFiles('services'), ...sourceFiles('persistence')]) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const match of text.matchAll(/eventType: '([A-Z_]+)'/g)) written.add(match[1] ?? '');
    }
    expect(written.size).toBeGreaterThan(5);
    for (const type of written) expect(Object.keys(GOVERNOR_EVENT_TYPES), type).toContain(type);
  });
});
