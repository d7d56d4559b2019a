/**
 * Goal: what the command line says when it refuses is what is wrong, in lines a person can read,
 * with the documented exit code, and a refusal leaves nothing behind.
 *
 * Regressions of "sharp edges: what a new operator tripped over": `--db` naming a directory
 * said "has 2 hard links" (run) or "EISDIR … exit 6" (status, shutdown, verify); a file that is
 * not SQLite, given to `run`, was "left unchanged" but got a `.owner` beside it; `events --type
 * NOPE` printed nothing and exited 0; error messages held a literal `\n` (a bad YAML config,
 * `events --limit -5`), and `status --bogus` echoed node's message with an unbalanced quote.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { GOVERNOR_EVENT_TYPES } from '../../../persistence/event-types.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { runCliInProcess } from '../../support/cli-in-process.js';
import { tempDir } from '../../support/harness.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function sandbox(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}

/** A governor database holding one event an engine wrote (ORDER_FILLED). */
function governorDatabase(dir: string): string {
  const dbPath = join(dir, 'governor.db');
  const governance = new GovernanceSystem({ dbPath, operatorRequestPollMs: null });
  governance.engine.events.append({ eventType: 'ORDER_FILLED', reason: 'o-1' });
  governance.close();
  return dbPath;
}

describe('a --db that names a directory', () => {
  const commands: readonly (readonly string[])[] = [
    ['run', '--no-api'],
    ['status'],
    ['verify'],
    ['alerts'],
    ['events'],
    ['shutdown', '--operator', 'olga', '--reason', 'drill'],
    ['restart', '--operator', 'olga', '--reason', 'drill'],
    ['ack', 'some-id', '--operator', 'olga'],
    ['capital', 'adjust', '--pool', 'p', '--amount', '1', '--dry-run'],
    [
      'events',
      'prune',
      '--through-seq',
      '1',
      '--archive',
      'a.db',
      '--operator',
      'o',
      '--reason',
      'r',
    ],
    ['config', 'check'],
  ];

  it('regression: said "has 2 hard links" (run) or EISDIR, exit 6 (status, shutdown, verify)', async () => {
    const dir = sandbox();
    const directory = join(dir, 'x');
    mkdirSync(directory);
    for (const command of commands) {
      const result = await runCliInProcess([...command, '--db', directory]);
      const name = command
        .slice(
          0,
          command[0] === 'capital' || command[1] === 'prune' || command[0] === 'config' ? 2 : 1,
        )
        .join(' ');
      expect(result.stderr, name).toBe(
        `governor ${name}: --db ${directory} is a directory, not a database file\n`,
      );
      expect(result.code, name).toBe(2);
    }
    expect(readdirSync(directory)).toEqual([]);
    expect(readdirSync(dir)).toEqual(['x']);
  });

  it('the library says so too, before it creates anything', () => {
    const dir = sandbox();
    expect(() => new GovernanceSystem({ dbPath: dir })).toThrow(
      `GOV_NOT_A_GOVERNOR_DATABASE: ${dir} is a directory, not a database file`,
    );
  });
});

describe('run refusing a file that is not a governor database', () => {
  it('regression: a non-SQLite file was "left unchanged" but got a <file>.owner beside it', async () => {
    const dir = sandbox();
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'hello\n');
    const result = await runCliInProcess(['run', '--no-api', '--db', path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${path} is not a governor database (no SQLite header)`);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    expect(readFileSync(path, 'utf8')).toBe('hello\n');
  });

  it('an SQLite file of another program (WAL mode too): refused, nothing created beside it', async () => {
    for (const journalMode of ['DELETE', 'WAL']) {
      const dir = sandbox();
      const path = join(dir, 'other.sqlite');
      const db = new Database(path);
      db.pragma(`journal_mode = ${journalMode}`);
      db.exec('CREATE TABLE notes (text TEXT)');
      db.close();
      const before = readFileSync(path);
      for (const command of [
        ['run', '--no-api'],
        ['status'],
        ['shutdown', '--operator', 'o', '--reason', 'r'],
      ]) {
        const result = await runCliInProcess([...command, '--db', path]);
        expect(result.code, journalMode).toBe(2);
        expect(result.stderr).toContain('is not a governor database');
        expect(readdirSync(dir), `${journalMode} ${command[0]}`).toEqual(['other.sqlite']);
      }
      expect(readFileSync(path).equals(before)).toBe(true);
    }
  });
});

describe('events --type', () => {
  it('regression: events --type NOPE printed nothing and exited 0', async () => {
    const dbPath = governorDatabase(sandbox());
    const result = await runCliInProcess(['events', '--type', 'NOPE', '--db', dbPath]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('--type: unknown event type NOPE');
    for (const type of Object.keys(GOVERNOR_EVENT_TYPES)) expect(result.stderr).toContain(type);
  });

  it("takes governor's types and the engine's own types the log holds", async () => {
    const dbPath = governorDatabase(sandbox());
    const own = await runCliInProcess(['events', '--type', 'ORDER_FILLED', '--db', dbPath]);
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('ORDER_FILLED');
    const known = await runCliInProcess(['events', '--type', 'GOVERNOR_STOPPED', '--db', dbPath]);
    expect(known.code).toBe(0);
    expect(known.stdout).toContain('GOVERNOR_STOPPED');
  });

  it('regression: an empty result printed nothing at all', async () => {
    const dbPath = governorDatabase(sandbox());
    const result = await runCliInProcess(['events', '--type', 'CAPITAL_CORRECTED', '--db', dbPath]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('no events match\n');
    const json = await runCliInProcess([
      'events',
      '--type',
      'CAPITAL_CORRECTED',
      '--json',
      '--db',
      dbPath,
    ]);
    expect(json.stdout).toBe('');
  });
});

describe('error messages', () => {
  /** No escaped line break, balanced quotes. */
  function expectReadable(stderr: string): void {
    expect(stderr).not.toContain('\\n');
    for (const line of stderr.split('\n')) {
      expect((line.match(/"/g) ?? []).length % 2, line).toBe(0);
    }
  }

  it('regression: status --bogus echoed a parser message with an unbalanced quote', async () => {
    const result = await runCliInProcess(['status', '--bogus']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'governor status: unknown flag --bogus\nusage: governor status [--json]   (governor help status)\n',
    );
    expectReadable(result.stderr);
  });

  it('regression: events --limit -5 printed a literal \\n inside its message', async () => {
    const result = await runCliInProcess(['events', '--limit', '-5']);
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')[0]).toBe(
      'governor events: --limit needs a value (a value that starts with a dash is written --limit=VALUE)',
    );
    expectReadable(result.stderr);
  });

  it('regression: a bad YAML config printed its code frame as one line of literal \\n', async () => {
    const dir = sandbox();
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'a: [\n');
    const result = await runCliInProcess(['status', '--config', config, '--db', join(dir, 'g.db')]);
    expect(result.code).toBe(2);
    expectReadable(result.stderr);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^governor status: --config: .* is not valid YAML: /);
    expect(lines.slice(1)).toEqual(['  a: [', '  ^']);
  });

  it('each line of a message is escaped on its own: no control character reaches the terminal', async () => {
    const dir = sandbox();
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'a: [\u001b[31m\n');
    const result = await runCliInProcess(['status', '--config', config, '--db', join(dir, 'g.db')]);
    expect(result.stderr).not.toContain('\u001b');
    expect(result.stderr).toContain('\\x1b');
  });
});

describe('a database so deeply nested that its default control socket path is too long', () => {
  it('regression: status refused ("control socket path … is longer than 103 bytes") instead of reading the database, though no daemon can listen on that path', async () => {
    const dir = join(sandbox(), 'd'.repeat(60), 'e'.repeat(40));
    mkdirSync(dir, { recursive: true });
    const dbPath = governorDatabase(dir);
    const result = await runCliInProcess(['status', '--db', dbPath]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^governor {2}NOT RUNNING/);
    // A --socket given too long is still the caller's mistake.
    const given = await runCliInProcess([
      'status',
      '--db',
      dbPath,
      '--socket',
      join(dir, 'governor.sock'),
    ]);
    expect(given.code).not.toBe(0);
    expect(given.stderr).toMatch(/longer than 103 bytes/);
  });
});
