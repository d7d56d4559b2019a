/**
 * The fleet authority's keys in the config file (`authority`: url, scopes, host, leaseMs,
 * authorityLossMs) through the command line: `config check` prints them as `run` would use
 * them, the flags overriding the file key by key; a bad value stops `governor run` with exit 2
 * naming the key, before anything is opened (no database file is created).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../../support/cli-in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'governor-run-authority-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const GOOD = `authority:
  url: postgresql://host_1:s3cret@127.0.0.1:1/governor
  scopes: [firm/desk-a/strategy-x]
  host: host-1
  leaseMs: 1500
  authorityLossMs: 30000
`;

describe('authority keys in the config file', () => {
  it('config check shows the file, then the flags over it (password masked)', async () => {
    const path = config('good.yaml', GOOD);
    const fromFile = await runCliInProcess(['config', 'check', '--config', path, '--json']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(JSON.parse(fromFile.stdout).config.authority).toEqual({
      url: 'postgresql://host_1:********@127.0.0.1:1/governor',
      scopes: ['firm/desk-a/strategy-x'],
      host: 'host-1',
      leaseMs: 1500,
      authorityLossMs: 30000,
    });
    expect(fromFile.stdout).not.toContain('s3cret');
    const overridden = await runCliInProcess([
      'config',
      'check',
      '--config',
      path,
      '--json',
      '--authority',
      'postgresql://host_2@127.0.0.1:2/governor',
      '--scope',
      'firm/desk-b',
      '--scope',
      'firm/desk-c',
      '--fleet-host',
      'host-2',
      '--lease-ms',
      '600',
      '--authority-loss-ms',
      '6000',
    ]);
    expect(overridden.code, overridden.stderr).toBe(0);
    expect(JSON.parse(overridden.stdout).config.authority).toEqual({
      url: 'postgresql://host_2@127.0.0.1:2/governor',
      scopes: ['firm/desk-b', 'firm/desk-c'],
      host: 'host-2',
      leaseMs: 600,
      authorityLossMs: 6000,
    });
  });

  it('governor run refuses a bad value (exit 2) naming the key, with nothing opened', async () => {
    const cases: Array<[string, string[], RegExp]> = [
      [
        'authority:\n  scopes: [firm]\n  leaseMs: 50\n',
        [],
        /authority\.leaseMs: expected an integer of ms from 150 to 600000, got 50/,
      ],
      [
        'authority:\n  scopes: [firm]\n  leaseMs: 5000\n  authorityLossMs: 1000\n',
        [],
        /authority\.authorityLossMs: 1000 is shorter than leaseMs \(5000\)/,
      ],
      ['authority:\n  scopes: ["firm desk"]\n', [], /authority\.scopes\[0\]: expected names/],
      [
        'authority:\n  url: postgresql://a@127.0.0.1:1/g\n',
        [],
        /authority\.url is set but no scope/,
      ],
      [GOOD, ['--lease-ms', '0'], /--lease-ms: expected an integer of ms from 150/],
      [GOOD, ['--authority', 'http://127.0.0.1/'], /--authority: expected a postgresql:\/\//],
    ];
    for (const [index, [text, flags, expected]] of cases.entries()) {
      const db = join(dir, `refused-${index}.db`);
      const run = await runCliInProcess([
        'run',
        '--no-api',
        '--config',
        config(`bad-${index}.yaml`, text),
        '--db',
        db,
        ...flags,
      ]);
      expect(run.code, `${text} ${flags.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(expected);
      expect(run.stdout).toBe('');
      expect(existsSync(db)).toBe(false);
    }
  });

  it('GOVERNOR_AUTHORITY without any scope stops governor run (exit 2), nothing opened', async () => {
    const db = join(dir, 'env-only.db');
    const run = await runCliInProcess(['run', '--no-api', '--db', db], {
      GOVERNOR_AUTHORITY: 'postgresql://host_1@127.0.0.1:1/governor',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/GOVERNOR_AUTHORITY is set but no fleet scope/);
    expect(existsSync(db)).toBe(false);
  });
});
