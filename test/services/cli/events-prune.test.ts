/**
 * Goal: `governor events prune` is declared and behaves as the other operator commands: it is
 * a subcommand beside `governor events` (which keeps its own flags), with help, completion and
 * exit codes; it refuses without --operator/--reason (exit 2) and a bad selection (exit 1)
 * before anything is written; it prunes through a seq or by age, printing the base, the
 * archive and the new head; and a second prune of nothing new changes nothing (exit 0);
 * `governor events` and `governor status` read the pruned log.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Store } from '../../../persistence/index.js';
import { verifyDatabase } from '../../../services/health/verify-database.js';
import { runCliInProcess } from '../../support/cli-in-process.js';

const directories: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

const run = (argv: string[]) => runCliInProcess(argv);

/** A database of `events` events, written long ago except the last ten. */
function database(events: number): { dir: string; db: string } {
  const dir = mkdtempSync(join(tmpdir(), 'governor-prune-cli-'));
  directories.push(dir);
  const db = join(dir, 'governor.db');
  let wallMs = Date.now() - 200 * 86_400_000;
  const store = Store.open(db, { clock: { wallNow: () => wallMs } });
  for (let index = 0; index < events; index++) {
    if (index === events - 10) wallMs = Date.now() - 60_000;
    store.events.append({ eventType: 'TRADE_DECISION', reason: `decision ${index}` });
  }
  store.close();
  return { dir, db };
}

const WHO = ['--operator', 'olga', '--reason', 'INC-12: keep 90 days'];

describe('governor events prune', () => {
  it('refuses without --operator or --reason (exit 2) and a bad selection (exit 1), writing nothing', async () => {
    const { dir, db } = database(30);
    const archive = join(dir, 'archive.db');
    const base = ['events', 'prune', '--db', db, '--archive', archive];
    const noOperator = await run([...base, '--through-seq', '5', '--reason', 'why']);
    expect(noOperator.code).toBe(2);
    expect(noOperator.stderr).toContain('needs --operator NAME');
    const blank = await run([...base, '--through-seq', '5', '--operator', ' ', '--reason', 'x']);
    expect(blank.code).toBe(2);
    expect((await run([...base, ...WHO])).code).toBe(1);
    expect((await run([...base, ...WHO, '--through-seq', '5', '--older-than', '9d'])).code).toBe(1);
    expect((await run([...base, ...WHO, '--older-than', 'yesterday'])).code).toBe(1);
    expect((await run([...base, ...WHO, '--through-seq', '-3'])).code).toBe(1);
    expect((await run(['events', 'prune', '--db', db, ...WHO, '--through-seq', '5'])).code).toBe(1);
    expect((await run([...base, ...WHO, '--through-seq', '30'])).code).toBe(2);
    expect(existsSync(archive)).toBe(false);
    const missing = await run([...base, ...WHO, '--through-seq', '5', '--db', join(dir, 'no.db')]);
    expect(missing.code).toBe(5);
    const store = Store.open(db, { readonly: true });
    expect(store.events.count()).toBe(30);
    store.close();
  });

  it('prunes by age through the last old event, prints the base, archive and head; the log and the archive verify', async () => {
    const { dir, db } = database(40);
    const archive = join(dir, 'archive.db');
    const result = await run([
      'events',
      'prune',
      '--db',
      db,
      '--older-than',
      '90d',
      '--archive',
      archive,
      ...WHO,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('30 events through seq 30 pruned');
    expect(result.stdout).toMatch(/head 41:[0-9a-f]{64}/);
    expect(verifyDatabase({ dbPath: db }).ok).toBe(true);
    expect(verifyDatabase({ dbPath: archive }).head?.seq).toBe(40);
    const again = await run([
      'events',
      'prune',
      '--db',
      db,
      '--older-than',
      '90d',
      '--archive',
      join(dir, 'again.db'),
      ...WHO,
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing was changed');
    expect(existsSync(join(dir, 'again.db'))).toBe(false);
    const status = await run(['status', '--db', db, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ eventLogHead: { seq: 41 } });
    const shown = await run(['events', '--db', db, '--type', 'OPERATOR_ACTION']);
    expect(shown.stdout).toContain('olga PRUNE through seq 30: INC-12: keep 90 days');
    const listed = await run(['events', '--db', db, '--type', 'OPERATOR_ACTION', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      seq: 41,
      metadata: { action: 'PRUNE', throughSeq: 30, archive: 'archive.db' },
    });
  });

  it('is a subcommand beside governor events, with its help and completion', async () => {
    const help = await run(['help', 'events', 'prune']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: governor events prune --through-seq N/);
    const group = await run(['help', 'events']);
    expect(group.stdout).toMatch(/^usage: governor events \[--limit N\]/);
    expect(group.stdout).toContain('usage: governor events prune');
    const events = await run(['events', '--help']);
    expect(events.stdout).toMatch(/^usage: governor events \[--limit N\]/);
    const completion = await run(['completion', 'bash']);
    expect(completion.stdout).toContain('"events prune") flags=');
    expect(completion.stdout).toContain('--older-than');
  });

  it('regression: a usage error printed its usage after a literal \\n, and core refusals named the command twice', async () => {
    const { dir, db } = database(30);
    const both = await run([
      'events',
      'prune',
      '--db',
      db,
      '--through-seq',
      '3',
      '--older-than',
      '1d',
      '--archive',
      join(dir, 'a.db'),
      ...WHO,
    ]);
    expect(both.code).toBe(1);
    const lines = both.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'governor events prune: exactly one of --through-seq N and --older-than DURATION is required',
    );
    expect(lines[1]).toMatch(/^usage: governor events prune /);
    expect(both.stderr).not.toContain('\\n');
    const itself = await run([
      'events',
      'prune',
      '--db',
      db,
      '--through-seq',
      '3',
      '--archive',
      db,
      ...WHO,
    ]);
    expect(itself.code).toBe(2);
    expect(itself.stderr).toMatch(/^governor events prune: the archive /);
    expect(itself.stderr).not.toContain('events prune: events prune');
  });
});
