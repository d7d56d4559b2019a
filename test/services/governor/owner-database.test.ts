/**
 * Goal: services/governor/owner-database.ts takes a file for one owner only (a second opener is
 * refused and leaves no handle or lock behind), initialises a fresh file's desired mode, and
 * picks the thresholds a process runs with: an owner's own (recorded), an acting owner's from
 * the last owner's record, its own when none was recorded or the record is unusable.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../services/clock.js';
import { DEFAULT_THRESHOLDS, resolveThresholds } from '../../../services/config.js';
import { isGovernorError } from '../../../services/errors.js';
import {
  effectiveThresholds,
  type OwnedDatabase,
  openAsOwner,
} from '../../../services/governor/owner-database.js';
import { silentLogger } from '../../../services/logger.js';
import { tempDir } from '../../support/harness.js';

const opened: OwnedDatabase[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const owned of opened.splice(0)) {
    owned.store.close();
    owned.ownerLock?.release();
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freshPath(): string {
  const dir = tempDir();
  dirs.push(dir);
  return join(dir, 'governor.db');
}

function open(dbPath: string, configuredMode: 'AGGRESSIVE' | 'OBSERVE_ONLY' = 'AGGRESSIVE') {
  const owned = openAsOwner({
    dbPath,
    clock: new SimulatedClock(),
    logger: silentLogger(),
    configuredMode,
    faults: undefined,
  });
  opened.push(owned);
  return owned;
}

const context = { logger: silentLogger(), nowIso: '2026-01-01T00:00:00.000Z' };

describe('openAsOwner', () => {
  it('initialises a fresh file with the configured mode, and refuses a second owner', () => {
    const dbPath = freshPath();
    const first = open(dbPath, 'OBSERVE_ONLY');
    expect(first.authority.desiredMode).toBe('OBSERVE_ONLY');
    expect(first.ownerLock).not.toBeNull();
    let refusal: unknown;
    try {
      open(dbPath);
    } catch (error) {
      refusal = error;
    }
    expect(isGovernorError(refusal, 'GOV_DATABASE_OWNED')).toBe(true);
    // The first owner leaves: the file can be taken again (the refused opener held nothing).
    const owned = opened.splice(0);
    for (const o of owned) {
      o.store.close();
      o.ownerLock?.release();
    }
    expect(open(dbPath).authority.desiredMode).toBe('OBSERVE_ONLY');
  });
});

describe('effectiveThresholds', () => {
  const mine = resolveThresholds({ heartbeatLossMs: 90_000 });
  const theirs = resolveThresholds({ heartbeatLossMs: 150_000 });

  it('an owner runs with its own thresholds and records them; an acting owner takes those', () => {
    const dbPath = freshPath();
    const owner = open(dbPath);
    expect(effectiveThresholds(owner, theirs, false, context)).toEqual({
      thresholds: theirs,
      origin: { source: 'owner' },
    });
    const acting = effectiveThresholds(owner, mine, true, context);
    expect(acting.thresholds.heartbeatLossMs).toBe(150_000);
    expect(acting.origin).toMatchObject({ source: 'recorded', recordedAt: context.nowIso });
  });

  it('an acting owner with no record runs with its own, and says so', () => {
    const owned = open(freshPath());
    expect(effectiveThresholds(owned, mine, true, context)).toEqual({
      thresholds: mine,
      origin: { source: 'command', recorded: 'none' },
    });
    expect(mine.heartbeatLossMs).not.toBe(DEFAULT_THRESHOLDS.heartbeatLossMs);
  });

  it('without the owner lock (:memory:) the configured thresholds, unrecorded', () => {
    const owned = open(':memory:');
    expect(owned.ownerLock).toBeNull();
    expect(effectiveThresholds(owned, mine, true, context).origin).toEqual({ source: 'owner' });
  });
});
