/**
 * The fleet checker bites: a gate open past a kill + lease + ε, or past a loss + lease + ε, is a
 * violation; one closed in time, or open again only after the window ended, is not.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, openIntervals } from './checker.js';

function history(lines: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'fleet-checker-')), 'h');
  writeFileSync(path, lines);
  return path;
}

describe('the fleet checker', () => {
  const lease = 600;
  it('finds a gate still open after a kill + lease + ε, and not one closed in time', () => {
    const late = openIntervals(history('0 1\n1700 1\n1701 0\n'), 5_000);
    const inTime = openIntervals(history('0 1\n1590 1\n1591 0\n3000 1\n3100 1\n3101 0\n'), 5_000);
    const windows = [{ host: 'h', from: 1_000, until: 2_500, why: 'kill' }];
    expect(check(new Map([['h', late]]), windows, lease, 20)).toHaveLength(1);
    expect(check(new Map([['h', inTime]]), windows, lease, 20)).toEqual([]);
  });

  it('treats a stretch never closed (a killed host) as open until its end', () => {
    const open = openIntervals(history('0 1\n'), 4_000);
    expect(open).toEqual([{ from: 0, to: 4_000 }]);
    const windows = [{ host: 'h', from: 1_000, until: Number.POSITIVE_INFINITY, why: 'loss' }];
    expect(check(new Map([['h', open]]), windows, lease, 20)).toHaveLength(1);
  });
});
