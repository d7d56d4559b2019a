/**
 * Goal: services/governor/restart.ts builds the `operator.restart` event from the operator's
 * request and the pre-flight's verdict field for field (nothing else, no authority), and the
 * restart's effect logs the operator, reason and force at warn and tells the listeners once,
 * with the new lifecycle id and a reason naming the operator.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { OperatorRestartEvent } from '../../../machines/types.js';
import type { Effects } from '../../../services/governor/effects.js';
import { announceRestart, restartEvent } from '../../../services/governor/restart.js';

describe('restartEvent', () => {
  it('carries the request and the verdict, and nothing else', () => {
    const event = restartEvent(
      { operator: 'alice', reason: 'market data back' },
      { at: '2026-01-01T00:00:00.000Z', lifecycleId: 'lc-2', passed: false, force: true },
    );
    expect(event).toStrictEqual({
      type: 'operator.restart',
      operator: 'alice',
      reason: 'market data back',
      at: '2026-01-01T00:00:00.000Z',
      lifecycleId: 'lc-2',
      preflight: { passed: false },
      force: true,
    });
    expect('authority' in event).toBe(false);
  });

  it('a passed pre-flight without force is carried as such', () => {
    const event = restartEvent(
      { operator: 'bob', reason: 'fixed' },
      { at: '2026-01-02T00:00:00.000Z', lifecycleId: 'lc-3', passed: true, force: false },
    );
    expect(event.preflight).toEqual({ passed: true });
    expect(event.force).toBe(false);
  });
});

describe('announceRestart', () => {
  it('logs the restart at warn and tells the listeners once, naming the operator', () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    const announced: Array<{ lifecycleId: string; reason: string }> = [];
    const effects = {
      announceRestart: (lifecycleId: string, reason: string) =>
        void announced.push({ lifecycleId, reason }),
    } as unknown as Effects;
    const event: OperatorRestartEvent = {
      ...restartEvent(
        { operator: 'carol', reason: 'venue reconnected' },
        { at: '2026-01-01T00:00:00.000Z', lifecycleId: 'lc-9', passed: false, force: true },
      ),
      authority: { desiredMode: 'AGGRESSIVE', latch: null, hold: null },
    };
    announceRestart(effects, logger, event);
    expect(announced).toEqual([
      { lifecycleId: 'lc-9', reason: 'operator carol: venue reconnected' },
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 40,
      msg: 'operator restart: latch cleared',
      operator: 'carol',
      reason: 'venue reconnected',
      force: true,
    });
  });
});
