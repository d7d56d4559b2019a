/**
 * Goal: `authorityInForce` (services/governor/authority.ts) resolves the latch in force in
 * the order the design gives: the database's `system_state` record, else the latch the event
 * log justifies, else the fallback file's; it names where it found it, and the hold comes from
 * the record before the file. Nothing found: no latch and no source.
 */
import { describe, expect, it } from 'vitest';
import type { SafeModeHold, ShutdownLatch } from '../../../machines/types.js';
import type { FallbackRecord } from '../../../services/fallback-file.js';
import { authorityInForce } from '../../../services/governor/authority.js';

const DB_LATCH: ShutdownLatch = {
  trigger: 'MARKET_DATA_STALL',
  reason: 'from system_state',
  at: '2026-01-01T00:00:00.000Z',
};
const LOGGED_LATCH: ShutdownLatch = {
  trigger: 'EVENT_LOG_WRITE_FAILURE',
  reason: 'from the event log',
  at: '2026-01-01T00:01:00.000Z',
};
const FILE_LATCH: ShutdownLatch = {
  trigger: 'UNRECOVERABLE_EXCEPTION',
  reason: 'from the fallback file',
  at: '2026-01-01T00:02:00.000Z',
};
const DB_HOLD: SafeModeHold = {
  cause: 'HEARTBEAT_LOST',
  reason: 'held in the database',
  at: '2026-01-01T00:03:00.000Z',
};
const FILE_HOLD: SafeModeHold = {
  cause: 'HEARTBEAT_LOST',
  reason: 'held in the file',
  at: '2026-01-01T00:04:00.000Z',
};

function fallback(latch: ShutdownLatch | null, hold: SafeModeHold | null): FallbackRecord {
  return { version: 2, latch, hold, lifecycleId: 'lc-1', finalState: {} };
}

describe('authorityInForce', () => {
  it('nothing anywhere: no latch, no source, no hold', () => {
    expect(authorityInForce({ latch: null, loggedLatch: null, hold: null }, null)).toEqual({
      latch: null,
      latchSource: null,
      hold: null,
    });
    expect(
      authorityInForce({ latch: null, loggedLatch: null, hold: null }, fallback(null, null)),
    ).toEqual({ latch: null, latchSource: null, hold: null });
  });

  it('the database record wins over the event log and the file', () => {
    const found = authorityInForce(
      { latch: DB_LATCH, loggedLatch: LOGGED_LATCH, hold: null },
      fallback(FILE_LATCH, null),
    );
    expect(found.latch).toBe(DB_LATCH);
    expect(found.latchSource).toBe('database');
  });

  it('without a record, the event log justifies the latch, over the file', () => {
    const found = authorityInForce(
      { latch: null, loggedLatch: LOGGED_LATCH, hold: null },
      fallback(FILE_LATCH, null),
    );
    expect(found.latch).toBe(LOGGED_LATCH);
    expect(found.latchSource).toBe('event-log');
  });

  it('only the fallback file has one: its latch, named as such', () => {
    const found = authorityInForce(
      { latch: null, loggedLatch: null, hold: null },
      fallback(FILE_LATCH, null),
    );
    expect(found.latch).toBe(FILE_LATCH);
    expect(found.latchSource).toBe('fallback-file');
  });

  it("the record's hold wins over the file's; the file's hold counts when the record has none", () => {
    expect(
      authorityInForce({ latch: null, loggedLatch: null, hold: DB_HOLD }, fallback(null, FILE_HOLD))
        .hold,
    ).toBe(DB_HOLD);
    expect(
      authorityInForce({ latch: null, loggedLatch: null, hold: null }, fallback(null, FILE_HOLD))
        .hold,
    ).toBe(FILE_HOLD);
  });

  it('the hold is resolved independently of where the latch came from', () => {
    const found = authorityInForce(
      { latch: DB_LATCH, loggedLatch: null, hold: null },
      fallback(FILE_LATCH, FILE_HOLD),
    );
    expect(found).toEqual({ latch: DB_LATCH, latchSource: 'database', hold: FILE_HOLD });
  });
});
