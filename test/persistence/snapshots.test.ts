/**
 * Goal: one snapshot per calendar date; a second write for a date, a malformed or impossible
 * date, or bad data is refused with its code and writes nothing; reads come back in date order.
 */
import { describe, expect, it } from 'vitest';
import { LIMITS, Store } from '../../persistence/index.js';
import { dumpDatabase, expectGovernorError, steppingClock, tempDatabasePath } from './helpers.js';

describe('snapshots', () => {
  it('refuses a date earlier than one already written, and writes nothing', () => {
    const store = Store.open(':memory:', { clock: steppingClock() });
    store.snapshots.write({ date: '2025-12-03', data: {} });
    expect(() => store.snapshots.write({ date: '2025-12-02', data: {} })).toThrow(
      /GOV_SNAPSHOT_OUT_OF_ORDER/,
    );
    expect(store.snapshots.count()).toBe(1);
    store.close();
  });

  it('round-trips, lists a range, the latest, and iterates in date order', () => {
    const store = Store.open(':memory:', { clock: steppingClock() });
    expect(store.snapshots.latest()).toBeNull();
    for (const date of ['2024-02-29', '2025-12-01', '2025-12-02', '2025-12-03']) {
      const written = store.snapshots.write({ date, data: { date, equity: 100, positions: [] } });
      expect(written.date).toBe(date);
      expect(written.writtenAt).toMatch(/^2025-12-17T09:00:00/);
    }
    expect(store.snapshots.get('2025-12-02')?.data).toEqual({
      date: '2025-12-02',
      equity: 100,
      positions: [],
    });
    expect(store.snapshots.get('2025-12-04')).toBeNull();
    expect(store.snapshots.latest()?.date).toBe('2025-12-03');
    expect(store.snapshots.range('2025-12-01', '2025-12-02').map((s) => s.date)).toEqual([
      '2025-12-01',
      '2025-12-02',
    ]);
    expect([...store.snapshots.iterate()].map((s) => s.date)).toEqual([
      '2024-02-29',
      '2025-12-01',
      '2025-12-02',
      '2025-12-03',
    ]);
    expect(store.snapshots.count()).toBe(4);
    store.close();
  });

  it('iterates across pages', () => {
    const store = Store.open(':memory:');
    for (let day = 0; day < 100; day++) {
      const date = new Date(Date.UTC(2025, 0, 1 + day)).toISOString().slice(0, 10);
      store.snapshots.write({ date, data: day });
    }
    expect([...store.snapshots.iterate()].map((s) => s.data)).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    );
    store.close();
  });

  const refusals: Array<[string, { date: unknown; data: unknown }, string]> = [
    [
      'a second write for the same date',
      { date: '2025-12-01', data: { other: true } },
      'GOV_DUPLICATE_SNAPSHOT',
    ],
    ['an impossible date', { date: '2025-02-30', data: {} }, 'GOV_INVALID_DATE'],
    ['29 February of a common year', { date: '2025-02-29', data: {} }, 'GOV_INVALID_DATE'],
    ['month 13', { date: '2025-13-01', data: {} }, 'GOV_INVALID_DATE'],
    ['a date with a time', { date: '2025-12-01T00:00:00Z', data: {} }, 'GOV_INVALID_DATE'],
    ['a short date', { date: '2025-1-1', data: {} }, 'GOV_INVALID_DATE'],
    ['year zero', { date: '0000-01-01', data: {} }, 'GOV_INVALID_DATE'],
    ['a Date object', { date: new Date(), data: {} }, 'GOV_INVALID_DATE'],
    ['undefined data', { date: '2025-12-05', data: undefined }, 'GOV_INVALID_METADATA'],
    ['data with NaN', { date: '2025-12-05', data: { x: Number.NaN } }, 'GOV_INVALID_METADATA'],
    [
      'data over 4 MiB',
      { date: '2025-12-05', data: 'x'.repeat(LIMITS.snapshotBytesMax) },
      'GOV_PAYLOAD_TOO_LARGE',
    ],
  ];

  it.each(refusals)('refuses %s and writes nothing', (_name, input, code) => {
    const path = tempDatabasePath();
    const store = Store.open(path);
    store.snapshots.write({ date: '2025-12-01', data: { first: true } });
    const before = dumpDatabase(path);
    expectGovernorError(
      () => store.snapshots.write(input as { date: string; data: unknown }),
      code as Parameters<typeof expectGovernorError>[1],
    );
    expect(dumpDatabase(path)).toBe(before);
    expect(store.snapshots.get('2025-12-01')?.data).toEqual({ first: true });
    store.close();
  });

  it('checks dates given to readers', () => {
    const store = Store.open(':memory:');
    expectGovernorError(() => store.snapshots.get('yesterday'), 'GOV_INVALID_DATE');
    expectGovernorError(
      () => store.snapshots.range('2025-12-01', '2025-12-32'),
      'GOV_INVALID_DATE',
    );
    store.close();
  });
});
