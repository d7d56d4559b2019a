/**
 * Goal: every logical corruption the toolkit can make, at any position fast-check picks, is
 * detected and named by the verifier, and a GovernanceSystem starting on the damaged copy fails
 * safe (OBSERVE_ONLY, or SHUTDOWN for capital) with exactly one alert and without crashing.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headAnchorPathFor, readHeadAnchor } from '../../../persistence/integrity/head-anchor.js';
import { startupCheckNameOf } from '../../../services/health/startup-checks.js';
import { verifyDatabase } from '../../../services/health/verify-database.js';
import {
  CORRUPTIONS,
  copyDatabase,
  corruptCopy,
  forgeAnchor,
  openRaw,
} from '../../support/corrupt.js';
import { buildFixture, type Fixture, reopen, settle } from './fixture.js';

let fixture: Fixture;
let copies = 0;

beforeAll(async () => {
  fixture = await buildFixture();
});

afterAll(() => fixture?.cleanup());

function nextCopyPath(): string {
  copies++;
  return join(fixture.dir, `copy-${copies}.db`);
}

describe('the corruption toolkit', () => {
  it('offers at least 12 distinct corruptions', () => {
    expect(new Set(CORRUPTIONS.map((c) => c.name)).size).toBeGreaterThanOrEqual(12);
  });

  it('an untouched copy verifies clean and starts AGGRESSIVE (the baseline the others differ from)', async () => {
    const path = nextCopyPath();
    copyDatabase(fixture.dbPath, path);
    expect(verifyDatabase({ dbPath: path }).violations).toEqual([]);
    const { gov } = reopen(path, fixture);
    try {
      expect(await gov.runStartupChecks()).toBe(true);
      expect(gov.getState()).toBe('AGGRESSIVE');
    } finally {
      gov.close();
    }
  });
});

describe.each(CORRUPTIONS.map((c) => [c.name, c] as const))(
  'corruption %s',
  (_name, corruption) => {
    it('invariant: detected and named at any position; startup fails safe with exactly one alert', async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: 1_000_000 }), async (pick) => {
          const path = nextCopyPath();
          const where = corruptCopy(fixture.dbPath, path, corruption.name, pick);

          const verified = verifyDatabase({ dbPath: path });
          const named = verified.violations.filter(
            (v) => v.check === corruption.check && corruption.description.test(v.description),
          );
          expect(named, `${corruption.name} at ${JSON.stringify(where)}`).not.toEqual([]);
          expect(verified.ok).toBe(false);

          const { gov, delivered } = reopen(path, fixture);
          try {
            expect(await gov.runStartupChecks()).toBe(false);
            expect(gov.canDeployCapital()).toBe(false);
            if (corruption.check === 'CAPITAL') {
              expect(gov.getState()).toBe('SHUTDOWN');
              expect(gov.failSafeManager.getFailSafeState().trigger).toBe('CAPITAL_INCONSISTENT');
            } else {
              expect(gov.getState()).toBe('OBSERVE_ONLY');
              expect(gov.getCause().cause).toBe('STARTUP_CHECKS_FAILED');
            }
            const report = gov.getLastStartupReport();
            const failed = report?.results.find(
              (r) => r.name === startupCheckNameOf(corruption.check),
            );
            expect(failed?.passed).toBe(false);
            expect(failed?.details).toMatch(corruption.description);
            expect(gov.alertManager.getAlerts()).toHaveLength(1);
            await settle();
            expect(delivered).toHaveLength(1);
            const [alert] = delivered;
            expect(alert?.rootCause).toMatch(
              corruption.check === 'CAPITAL'
                ? /CAPITAL_INCONSISTENT/
                : new RegExp(startupCheckNameOf(corruption.check)),
            );
          } finally {
            gov.close();
          }
        }),
        { numRuns: 4 },
      );
    });
  },
);

describe('the head anchor kept elsewhere', () => {
  it('catches a whole-chain rewrite even when the anchor beside the database was forged too', () => {
    const original = readHeadAnchor(headAnchorPathFor(fixture.dbPath));
    expect(original).not.toBeNull();
    const path = nextCopyPath();
    corruptCopy(fixture.dbPath, path, 'whole-chain-rewrite', 7);
    forgeAnchor(path);
    // The forger recomputed every hash and rewrote the anchor: the file alone looks clean...
    expect(verifyDatabase({ dbPath: path }).ok).toBe(true);
    // ...but not against the head kept elsewhere, with or without its seq.
    const hash = original?.hash ?? '';
    for (const expectHead of [hash, `${original?.seq}:${hash}`]) {
      const result = verifyDatabase({ dbPath: path, expectHead });
      expect(result.ok).toBe(false);
      expect(result.anchorMatches).toBe(false);
      expect(result.violations.map((v) => v.description).join('\n')).toMatch(
        /expected head mismatch/,
      );
    }
  });

  it('matches on the untouched database, with the head as HASH or SEQ:HASH', () => {
    const original = readHeadAnchor(headAnchorPathFor(fixture.dbPath));
    const path = nextCopyPath();
    copyDatabase(fixture.dbPath, path);
    for (const expectHead of [original?.hash ?? '', `${original?.seq}:${original?.hash}`]) {
      const result = verifyDatabase({ dbPath: path, expectHead });
      expect(result).toMatchObject({ ok: true, anchorMatches: true });
    }
  });

  it('verify reads only: it writes no anchor unless asked', () => {
    const path = nextCopyPath();
    copyDatabase(fixture.dbPath, path);
    const raw = openRaw(path);
    raw.prepare("UPDATE events SET reason = 'x' WHERE seq = 1").run();
    raw.close();
    const anchorPath = headAnchorPathFor(path) ?? '';
    const before = readHeadAnchor(anchorPath);
    expect(verifyDatabase({ dbPath: path }).ok).toBe(false);
    expect(readHeadAnchor(anchorPath)).toEqual(before);
  });
});
