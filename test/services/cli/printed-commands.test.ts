/**
 * Goal: every command governor prints for an operator to paste names the database by its
 * absolute path (and the config file, when one was read), shell-quoted, and an operator name
 * that has a value in any shell; one function builds them all.
 *
 * Regressions: every alert's recommended action, the refusal's "To restart anyway" and the
 * daemon's advice omitted `--db` (pasted elsewhere, they acted on ./governor.db or exited 5);
 * the README said `--operator "$USER"`, which is empty in containers and systemd units.
 * (test/e2e/pasted-commands.test.ts pastes them into a shell in another directory.)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_GROUPS, COMMANDS, findCommand } from '../../../services/cli/commands.js';
import {
  COMMAND_GROUP_WORDS,
  governorCommand,
  locateCommands,
  nextCommands,
  shellQuote,
} from '../../../services/cli/printed-command.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const LOCATION = { dbPath: "/srv/gov db/it's.db", configPath: '/etc/governor/governor.yaml' };
const LOCATED = `--db '/srv/gov db/it'\\''s.db' --config /etc/governor/governor.yaml`;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Every `governor …` command quoted in the library's texts (alerts, checks, violations). */
function quotedLibraryCommands(): string[] {
  const found: string[] = [];
  for (const dir of ['services/alerts', 'services/health', 'services/governor', 'persistence']) {
    for (const file of sourceFiles(join(ROOT, dir))) {
      const quoted = readFileSync(file, 'utf8').match(/`governor [^`]+`/g) ?? [];
      // Titles (`governor · …`) and the like are not commands.
      found.push(...quoted.filter((text) => /^`governor [a-z]/.test(text)));
    }
  }
  return found;
}

describe('printed commands', () => {
  it('regression: alert recommended actions quoted commands without --db', () => {
    const quoted = quotedLibraryCommands();
    expect(quoted.length).toBeGreaterThan(20);
    for (const text of quoted) {
      const located = locateCommands(text, LOCATION);
      const match =
        /^`governor ((?:capital adjust|events prune|config check|venues flat|fleet [a-z]+)|[a-z]+) (.*)`$/.exec(
          located,
        );
      expect(match, located).not.toBeNull();
      expect(findCommand(match?.[1] ?? ''), located).toBeDefined();
      expect(match?.[2]?.startsWith(LOCATED), located).toBe(true);
      expect(located).not.toContain('--operator NAME');
    }
  });

  it('regression: the refusal printed "To restart anyway: governor restart --operator NAME --reason TEXT --force"', () => {
    const next = nextCommands(LOCATION);
    expect(next.restartForced).toBe(
      `governor restart ${LOCATED} --operator "$(id -un)" --reason TEXT --force`,
    );
    for (const command of Object.values(next)) expect(command).toContain(LOCATED);
  });

  it("knows the command table's two-word groups", () => {
    expect([...COMMAND_GROUP_WORDS].sort()).toEqual([...COMMAND_GROUPS].sort());
  });

  it('quotes any value as one shell word', () => {
    expect(shellQuote('/srv/governor.db')).toBe('/srv/governor.db');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("a b'c$d`e\nf")).toBe("'a b'\\''c$d`e\nf'");
    expect(
      governorCommand({ dbPath: '/x', configPath: null }, 'ack', ['id 1', '--operator', 'o']),
    ).toBe("governor ack --db /x 'id 1' --operator o");
  });

  it('regression: the README, the docs and the help told operators --operator "$USER"', () => {
    const texts = [
      readFileSync(join(ROOT, 'README.md'), 'utf8'),
      ...readdirSync(join(ROOT, 'docs'))
        .filter((name) => name.endsWith('.md'))
        .map((name) => readFileSync(join(ROOT, 'docs', name), 'utf8')),
      ...COMMANDS.flatMap((command) => command.examples),
    ];
    for (const text of texts) expect(text).not.toContain('$USER');
    // The --operator flag (not --operator-role, a PostgreSQL role, of fleet grant).
    const examples = COMMANDS.flatMap((command) => command.examples).filter((e) =>
      e.includes('--operator '),
    );
    expect(examples.length).toBeGreaterThan(5);
    for (const example of examples) expect(example).toContain('--operator "$(id -un)"');
  });
});
