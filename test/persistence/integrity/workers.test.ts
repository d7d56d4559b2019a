/**
 * Goal: the chain walk in worker threads finds exactly what the in-thread walk finds (every
 * toolkit corruption, at positions fast-check picks), including damage exactly at a chunk
 * boundary that only the join can see; `verifyAsync` equals `verify`; and while a large
 * verification runs in workers the event loop keeps turning (an interval timer keeps firing),
 * where the in-thread `verify` stops it for the whole walk.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import { walkChainInSnapshot } from '../../../persistence/integrity/chain-in-thread.js';
import type { ChainRules, ChainWalk } from '../../../persistence/integrity/chain-walk.js';
import { splitRange, walkChainInWorkers } from '../../../persistence/integrity/chain-workers.js';
import { DataIntegrityVerifier } from '../../../persistence/integrity/index.js';
import { pruneEventLogOffline } from '../../../services/governor/event-log-prune.js';
import {
  CORRUPTIONS,
  copyDatabase,
  corruptCopy,
  openRaw,
  overwritePage,
  rehashFrom,
} from '../../support/corrupt.js';
import { appendRawEvents } from '../../support/raw-log.js';
import { buildFixture, type Fixture } from './fixture.js';

const DAY_MS = 86_400_000;

let fixture: Fixture;
let copies = 0;

beforeAll(async () => {
  fixture = await buildFixture();
});

afterAll(() => fixture?.cleanup());

/** The worker threads a walk with workersMax `max` uses on this machine (none below 2). */
function workersFor(max: number): number {
  const count = Math.min(availableParallelism(), max);
  return count >= 2 ? count : 0;
}

function nextCopyPath(): string {
  copies++;
  return join(fixture.dir, `workers-${copies}.db`);
}

function rules(): ChainRules {
  return {
    futureLimitIso: new Date(fixture.endWallMs + 5 * 60_000 + DAY_MS).toISOString(),
    backwardsToleranceMs: DAY_MS,
    findingsMax: 20,
  };
}

/** The walk of the whole log in this thread, and in `workers` worker threads. */
async function bothWalks(path: string, workers: number): Promise<[ChainWalk, ChainWalk]> {
  const store = Store.open(path, { readonly: true });
  try {
    const scan = store.integrityScan;
    const inThread = scan.inReadSnapshot(() =>
      walkChainInSnapshot(scan, { ...rules(), after: null }),
    );
    const toSeq = scan.head()?.seq ?? 0;
    const inWorkers = await walkChainInWorkers({
      ...rules(),
      dbPath: path,
      after: null,
      toSeq,
      workers,
    });
    return [inThread, inWorkers];
  } finally {
    store.close();
  }
}

describe('chain walk in worker threads', () => {
  it('invariant: finds what the in-thread walk finds, for every toolkit corruption at any position', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...CORRUPTIONS),
        fc.nat({ max: 1_000_000 }),
        fc.integer({ min: 2, max: 3 }),
        async (corruption, pick, workers) => {
          const path = nextCopyPath();
          corruptCopy(fixture.dbPath, path, corruption.name, pick);
          const [inThread, inWorkers] = await bothWalks(path, workers);
          expect(inWorkers).toEqual(inThread);
        },
      ),
      { numRuns: 10 },
    );
  });

  describe('damage exactly at a chunk boundary (three chunks)', () => {
    /** The seq ranges three workers walk over the fixture's log. */
    function boundaries(path: string): number[] {
      const store = Store.open(path, { readonly: true });
      const head = store.integrityScan.head()?.seq ?? 0;
      store.close();
      return splitRange(0, head, 3)
        .slice(1)
        .map((chunk) => chunk.afterSeq);
    }

    const cases: ReadonlyArray<
      [string, (db: ReturnType<typeof openRaw>, last: number) => void, RegExp]
    > = [
      [
        "the stored hash of a chunk's last row (the next chunk's first link breaks)",
        (db, last) =>
          db.prepare('UPDATE events SET hash = ? WHERE seq = ?').run('ab'.repeat(32), last),
        /PREV_HASH_MISMATCH/,
      ],
      [
        "the prev_hash of a chunk's first row",
        (db, last) =>
          db
            .prepare('UPDATE events SET prev_hash = ? WHERE seq = ?')
            .run('cd'.repeat(32), last + 1),
        /PREV_HASH_MISMATCH/,
      ],
      [
        "a chunk's first row deleted",
        (db, last) => db.prepare('DELETE FROM events WHERE seq = ?').run(last + 1),
        /SEQ_GAP/,
      ],
      [
        "a chunk's first row two days before its predecessor (hashes recomputed)",
        (db, last) => {
          const previous = db
            .prepare<[number], string>('SELECT timestamp FROM events WHERE seq = ?')
            .pluck()
            .get(last);
          const moved = new Date(Date.parse(previous ?? '') - 2 * DAY_MS).toISOString();
          db.prepare('UPDATE events SET timestamp = ? WHERE seq = ?').run(moved, last + 1);
          rehashFrom(db, last + 1);
        },
        /TIMESTAMP_BACKWARDS/,
      ],
      [
        "a chunk's first row malformed (the link check moves to the row after it)",
        (db, last) => db.prepare("UPDATE events SET reason = x'2a' WHERE seq = ?").run(last + 1),
        /MALFORMED_ROW/,
      ],
    ];

    it.each(cases)('%s is found, as in-thread', async (_label, damage, kind) => {
      const path = nextCopyPath();
      copyDatabase(fixture.dbPath, path);
      const cut = boundaries(path)[0] ?? 0;
      const db = openRaw(path);
      try {
        damage(db, cut);
      } finally {
        db.close();
      }
      const [inThread, inWorkers] = await bothWalks(path, 3);
      expect(inWorkers).toEqual(inThread);
      expect(inWorkers.findings.map((f) => f.kind).join(' ')).toMatch(kind);
      const near = inWorkers.findings.filter(
        (f) => f.seq === cut || f.seq === cut + 1 || f.seq === cut + 2,
      );
      expect(near).not.toEqual([]);
    });
  });

  it('verifyAsync reports what verify reports (violations, head, run), through workers', async () => {
    for (const name of ['edited-metadata', 'deleted-event', 'truncated-log'] as const) {
      const path = nextCopyPath();
      corruptCopy(fixture.dbPath, path, name, 77);
      const store = Store.open(path, { readonly: true });
      try {
        const options = { writeAnchor: false, parallelEventsMin: 0, workersMax: 3 } as const;
        const sync = new DataIntegrityVerifier(store, options);
        const async = new DataIntegrityVerifier(store, options);
        const expected = sync.verify({ full: true });
        expect(await async.verifyAsync({ full: true })).toEqual(expected);
        expect(async.getLastRun()).toEqual({ ...sync.getLastRun(), workers: workersFor(3) });
        expect(async.getVerifiedHead()?.seq).toBe(sync.getVerifiedHead()?.seq);
        expect(expected).not.toEqual([]);
      } finally {
        store.close();
      }
    }
  });

  it('a row count that differs from the head (an index hiding rows) is found in workers as in this thread', async () => {
    const path = nextCopyPath();
    copyDatabase(fixture.dbPath, path);
    // count(*) reads the event_id index: its root page overwritten with the one leaf of a small
    // index (damage that hides most rows from count(*), not from the seq order).
    const raw = openRaw(path);
    const rootOf = (sql: string) => raw.prepare<[], number>(sql).pluck().get() ?? 0;
    const eventIdRoot = rootOf(
      "SELECT rootpage FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' AND name LIKE 'sqlite_autoindex%'",
    );
    const smallRoot = rootOf("SELECT rootpage FROM sqlite_schema WHERE name = 'events_authority'");
    const pageSize = Number(raw.pragma('page_size', { simple: true }));
    raw.close();
    const bytes = readFileSync(path).subarray((smallRoot - 1) * pageSize, smallRoot * pageSize);
    overwritePage(path, eventIdRoot, 0, Buffer.from(bytes));
    const store = Store.open(path, { readonly: true });
    try {
      const headSeq = store.integrityScan.head()?.seq ?? 0;
      expect(store.integrityScan.countEvents()).toBeLessThan(headSeq);
      const options = { writeAnchor: false, parallelEventsMin: 0, workersMax: 3 } as const;
      const expected = new DataIntegrityVerifier(store, options).verify({ full: true });
      expect(expected.map((v) => v.location?.kind)).toContain('ROW_COUNT_MISMATCH');
      const inWorkers = new DataIntegrityVerifier(store, options);
      expect(await inWorkers.verifyAsync({ full: true })).toEqual(expected);
      expect(inWorkers.getLastRun()?.workers).toBe(workersFor(3));
    } finally {
      store.close();
    }
  });

  it('a pruned log is walked from its chain base through workers: clean when legitimate, and damage at the base (its hash changed) as verify finds it', async () => {
    const path = nextCopyPath();
    copyDatabase(fixture.dbPath, path);
    const outcome = pruneEventLogOffline({
      dbPath: path,
      throughSeq: 60,
      archivePath: `${path}.archive`,
      operator: 'olga',
      reason: 'INC-7: prune',
    });
    expect(outcome.kind).toBe('pruned');
    const options = { writeAnchor: false, parallelEventsMin: 0, workersMax: 3 } as const;
    for (const damage of [null, `UPDATE event_log_base SET through_hash = '${'b'.repeat(64)}'`]) {
      if (damage !== null) {
        const raw = openRaw(path);
        raw.prepare(damage).run();
        raw.close();
      }
      const store = Store.open(path, { readonly: true });
      try {
        const expected = new DataIntegrityVerifier(store, options).verify({ full: true });
        const async = new DataIntegrityVerifier(store, options);
        expect(await async.verifyAsync({ full: true })).toEqual(expected);
        expect(async.getLastRun()).toMatchObject({ fromSeq: 61, workers: workersFor(3) });
        expect(expected.map((v) => v.location.kind)).toEqual(
          damage === null ? [] : expect.arrayContaining(['UNATTESTED_BASE', 'PREV_HASH_MISMATCH']),
        );
      } finally {
        store.close();
      }
    }
  });

  it('an aborted walk rejects with the reason, records no run, and a later run completes', async () => {
    const path = nextCopyPath();
    copyDatabase(fixture.dbPath, path);
    const store = Store.open(path, { readonly: true });
    try {
      const verifier = new DataIntegrityVerifier(store, {
        writeAnchor: false,
        parallelEventsMin: 0,
      });
      const controller = new AbortController();
      const pending = verifier.verifyAsync({ full: true, signal: controller.signal });
      controller.abort(new Error('closing'));
      await expect(pending).rejects.toThrow('closing');
      expect(verifier.getLastRun()).toBeNull();
      expect(await verifier.verifyAsync({ full: true })).toEqual([]);
    } finally {
      store.close();
    }
  });
});

describe('a run completing while verifyAsync walks', () => {
  it('regression: damage found by verify() meanwhile stays reported after the async run completes', async () => {
    const path = nextCopyPath();
    copyDatabase(fixture.dbPath, path);
    const store = Store.open(path);
    try {
      const verifier = new DataIntegrityVerifier(store, { parallelEventsMin: 0, workersMax: 2 });
      expect(verifier.verify({ full: true })).toEqual([]);
      const pending = verifier.verifyAsync({ full: true });
      // While the full run walks the head it read, new events arrive, one of them tampered.
      const seq = store.events.append({ eventType: 'ORDER', reason: 'placed' }).seq;
      const raw = openRaw(path);
      raw.prepare("UPDATE events SET reason = 'cancelled' WHERE seq = ?").run(seq);
      raw.close();
      const damage = new RegExp(`hash mismatch at seq ${seq}`);
      expect(
        verifier
          .verify()
          .map((v) => v.description)
          .join('\n'),
      ).toMatch(damage);
      const headAfterDamage = verifier.getVerifiedHead();
      expect(await pending).toEqual([]);
      // The late, clean full run neither forgets the damage nor anchors over it.
      expect(
        verifier
          .getLastViolations()
          .map((v) => v.description)
          .join('\n'),
      ).toMatch(damage);
      expect(
        verifier
          .verify()
          .map((v) => v.description)
          .join('\n'),
      ).toMatch(damage);
      expect(verifier.getVerifiedHead()).toEqual(headAfterDamage);
    } finally {
      store.close();
    }
  });
});

describe('the event loop during a large verification', () => {
  const EVENTS = 200_000;
  let dir: string;
  let dbPath: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'governor-responsive-'));
    dbPath = join(dir, 'large.db');
    appendRawEvents(dbPath, EVENTS);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs `work` while a 2 ms interval timer records when it fires. */
  async function ticksDuring(work: () => Promise<unknown> | unknown): Promise<{
    ticks: number;
    longestGapMs: number;
    durationMs: number;
  }> {
    const fired: number[] = [];
    const timer = setInterval(() => fired.push(performance.now()), 2);
    // Let the timer settle before the work starts.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = performance.now();
    fired.length = 0;
    await work();
    const ended = performance.now();
    clearInterval(timer);
    const times = [started, ...fired.filter((t) => t <= ended), ended];
    let longestGapMs = 0;
    for (let i = 1; i < times.length; i++) {
      longestGapMs = Math.max(longestGapMs, (times[i] ?? 0) - (times[i - 1] ?? 0));
    }
    return { ticks: times.length - 2, longestGapMs, durationMs: ended - started };
  }

  it('keeps firing an interval timer while workers walk, where verify() blocks it throughout', async () => {
    const store = Store.open(dbPath, { readonly: true });
    try {
      const options = { writeAnchor: false, parallelEventsMin: 0, workersMax: 2 } as const;
      // The counter-example: the in-thread verify holds the event loop for the whole walk.
      const blocked = await ticksDuring(() =>
        new DataIntegrityVerifier(store, options).verify({ full: true }),
      );
      expect(blocked.ticks).toBe(0);

      let violations: unknown[] = ['not run'];
      const free = await ticksDuring(async () => {
        violations = await new DataIntegrityVerifier(store, options).verifyAsync({ full: true });
      });
      expect(violations).toEqual([]);
      // Relative bounds only: the timer fired throughout, never stalled for a fifth of the walk.
      expect(free.ticks).toBeGreaterThanOrEqual(20);
      expect(free.longestGapMs).toBeLessThan(free.durationMs / 5);
    } finally {
      store.close();
    }
  });

  it.each([
    ['workers', { parallelEventsMin: 0, workersMax: 2 }],
    ['one thread, a page at a time', { workersMax: 0 }],
  ] as const)(
    'onProgress (%s) never goes backwards and ends at the total',
    async (_label, options) => {
      const store = Store.open(dbPath, { readonly: true });
      try {
        const calls: Array<[number, number]> = [];
        const verifier = new DataIntegrityVerifier(store, { writeAnchor: false, ...options });
        await verifier.verifyAsync({
          full: true,
          onProgress: (checked, total) => calls.push([checked, total]),
        });
        expect(calls.length).toBeGreaterThanOrEqual(2);
        for (let i = 1; i < calls.length; i++) {
          expect(calls[i]?.[0]).toBeGreaterThanOrEqual(calls[i - 1]?.[0] ?? 0);
          expect(calls[i]?.[1]).toBe(EVENTS);
        }
        expect(calls.at(-1)).toEqual([EVENTS, EVENTS]);
      } finally {
        store.close();
      }
    },
  );

  it('keeps firing an interval timer on one core too: the walk runs between turns of the loop', async () => {
    const store = Store.open(dbPath, { readonly: true });
    try {
      const verifier = new DataIntegrityVerifier(store, { writeAnchor: false, workersMax: 0 });
      const sliced = await ticksDuring(() => verifier.verifyAsync({ full: true }));
      expect(verifier.getLastRun()?.eventsChecked).toBe(EVENTS);
      expect(sliced.ticks).toBeGreaterThanOrEqual(20);
      expect(sliced.longestGapMs).toBeLessThan(sliced.durationMs / 5);
    } finally {
      store.close();
    }
  });
});
