/**
 * Goal: services/governor/ownership/find-owner.ts judges an owner on record alive only when it
 * can tell: another host is never taken as alive from here, a pid that does not run is dead, a
 * pid that runs with another start time is a reused pid (dead), and with no start time on record
 * a running pid counts as alive. Reading the owner never fails: an unreadable database is no
 * owner. (Locks and requests: ownership.test.ts.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OwnerInfo } from '../../../persistence/owner-lock.js';
import { processStartOf } from '../../../persistence/owner-lock.js';
import {
  ownerAlive,
  ownerProcessAlive,
  readOwnerQuietly,
} from '../../../services/governor/ownership/find-owner.js';

/** Far above any pid_max Linux allows (2^22): no process has it. */
const NO_SUCH_PID = 2_000_000_000;

function owner(overrides: Partial<OwnerInfo> = {}): OwnerInfo {
  return {
    pid: process.pid,
    host: hostname(),
    since: '2026-01-01T00:00:00.000Z',
    lockPath: '/nonexistent/governor.db.owner',
    lockInode: 1,
    processStart: null,
    ...overrides,
  };
}

describe('ownerProcessAlive', () => {
  it('this process, on this host, no start time on record: alive', () => {
    expect(ownerProcessAlive(owner())).toBe(true);
  });

  it('this process with its own start time: alive; with another: a reused pid, dead', () => {
    const start = processStartOf(process.pid);
    if (start === null) return; // no /proc: the start time cannot be compared here
    expect(ownerProcessAlive(owner({ processStart: start }))).toBe(true);
    expect(ownerProcessAlive(owner({ processStart: `${start}0` }))).toBe(false);
  });

  it('a pid that does not run: dead', () => {
    expect(ownerProcessAlive(owner({ pid: NO_SUCH_PID }))).toBe(false);
  });

  it('another host: never judged alive from here', () => {
    expect(ownerProcessAlive(owner({ host: `${hostname()}-elsewhere` }))).toBe(false);
  });
});

describe('reading the owner of a database', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'governor-find-owner-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('an unreadable or missing database has no owner, and no lock held', () => {
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'not a database');
    expect(readOwnerQuietly(junk)).toBeNull();
    expect(readOwnerQuietly(join(dir, 'missing.db'))).toBeNull();
    expect(ownerAlive(join(dir, 'missing.db'))).toBe(false);
  });
});
