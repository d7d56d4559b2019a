/**
 * Goal: services/governor/operator-commands.ts carries out each command through the one target
 * call it names, reports the state reached and who handled it, says `settling` only when a
 * resume or restart has not settled, passes refusals through unchanged; and the RequestWatcher
 * carries out another process's requests once each, oldest first, recording done, refused (with
 * the refusal's code) or failed, and wakes only on another connection's commit.
 * A recording target; settle bounds of 0 ms (a settled promise wins by microtasks), no wall time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import type { OperatorRequestInput } from '../../../persistence/operator-requests.js';
import { GovernorError } from '../../../services/errors.js';
import {
  type CommandTarget,
  executeCommand,
  processSignature,
  RequestWatcher,
} from '../../../services/governor/operator-commands.js';
import { silentLogger } from '../../../services/logger.js';

interface Recording {
  readonly calls: string[];
  resume: () => Promise<boolean>;
  restart: () => Promise<unknown>;
  shutdown: () => void;
}

function recordingTarget(): { target: CommandTarget; rec: Recording } {
  const rec: Recording = {
    calls: [],
    resume: () => Promise.resolve(true),
    restart: () => Promise.resolve(undefined),
    shutdown: () => {},
  };
  const target: CommandTarget = {
    operatorShutdown: (r) => {
      rec.calls.push(`shutdown ${r.operator}: ${r.reason}`);
      rec.shutdown();
    },
    operatorObserve: (r) => void rec.calls.push(`observe ${r.operator}: ${r.reason}`),
    operatorResume: (r) => {
      rec.calls.push(`resume ${r.operator}`);
      return rec.resume();
    },
    restartFromOutside: (r, options) => {
      rec.calls.push(`restart ${r.operator} force=${options.force}`);
      return rec.restart();
    },
    thresholdsOrigin: () => ({ source: 'owner' }),
    acknowledgeAlert: (alertId, operator) => {
      rec.calls.push(`ack ${alertId} by ${operator}`);
      return { alertId, acknowledgedAt: new Date(Date.UTC(2026, 0, 1)) };
    },
    adjustCapital: (r, options) => {
      rec.calls.push(`adjust ${r.operator} ${String(options.amountMinor)}`);
      return { before: { totalMinor: '1' }, after: { totalMinor: '2' }, reconciled: true };
    },
    commandResult: () => ({
      state: 'OBSERVE_ONLY',
      gateOpen: false,
      cause: 'OPERATOR_REQUESTED',
      trigger: null,
      reason: 'test',
    }),
  };
  return { target, rec };
}

const never = (): Promise<never> => new Promise(() => {});
const AS = 'test pid 1 on host';

describe('executeCommand', () => {
  it('each command reaches its one target call, and the result carries the state and who handled it', async () => {
    const { target, rec } = recordingTarget();
    const base = { operator: 'alice', reason: 'why' };
    const shutdown = await executeCommand(target, { command: 'shutdown', ...base }, AS, 0);
    expect(shutdown).toEqual({ ...target.commandResult(), handledBy: AS });
    await executeCommand(target, { command: 'observe', ...base }, AS, 0);
    expect(rec.calls).toEqual(['shutdown alice: why', 'observe alice: why']);
  });

  it('a resume that settles is not settling; one still running past the bound is', async () => {
    const { target, rec } = recordingTarget();
    const done = await executeCommand(
      target,
      { command: 'resume', operator: 'a', reason: 'r' },
      AS,
      0,
    );
    expect(done.settling).toBeUndefined();
    rec.resume = never;
    const running = await executeCommand(
      target,
      { command: 'resume', operator: 'a', reason: 'r' },
      AS,
      0,
    );
    expect(running.settling).toBe(true);
  });

  it('a refused resume rejects with the refusal unchanged, not a state', async () => {
    const { target, rec } = recordingTarget();
    const refusal = new GovernorError('GOV_INVALID_OPERATOR_ACTION', 'not in OBSERVE_ONLY');
    rec.resume = () => Promise.reject(refusal);
    await expect(
      executeCommand(target, { command: 'resume', operator: 'a', reason: 'r' }, AS, 0),
    ).rejects.toBe(refusal);
  });

  it("a restart without force reports the pre-flight's thresholds; a forced one does not", async () => {
    const { target, rec } = recordingTarget();
    const plain = await executeCommand(
      target,
      { command: 'restart', operator: 'a', reason: 'r' },
      AS,
      0,
    );
    expect(plain.preflightThresholds).toEqual({ source: 'owner' });
    const forced = await executeCommand(
      target,
      { command: 'restart', operator: 'a', reason: 'r', options: { force: true } },
      AS,
      0,
    );
    expect(forced.preflightThresholds).toBeUndefined();
    // Only `true` forces: a truthy string is refused by the vocabulary, before anything runs.
    await expect(
      executeCommand(
        target,
        { command: 'restart', operator: 'a', reason: 'r', options: { force: 'yes' } },
        AS,
        0,
      ),
    ).rejects.toThrow('GOV_INVALID_ARGUMENT: restart: option force must be true or false');
    expect(rec.calls).toEqual(['restart a force=false', 'restart a force=true']);
  });

  it('ack reports the alert as JSON (dates as ISO text); adjust reports the correction', async () => {
    const { target } = recordingTarget();
    const ack = await executeCommand(
      target,
      { command: 'ack', operator: 'bob', reason: 'seen', alertId: 'al-1' },
      AS,
      0,
    );
    expect(ack.alert).toEqual({ alertId: 'al-1', acknowledgedAt: '2026-01-01T00:00:00.000Z' });
    const adjust = await executeCommand(
      target,
      {
        command: 'adjust',
        operator: 'bob',
        reason: 'fix',
        options: { poolId: 'p', amountMinor: '-1' },
      },
      AS,
      0,
    );
    expect(adjust.correction).toEqual({
      before: { totalMinor: '1' },
      after: { totalMinor: '2' },
      reconciled: true,
    });
  });

  it('processSignature names the kind and this process', () => {
    expect(processSignature('owner')).toMatch(new RegExp(`^owner pid ${process.pid} on .+`));
  });
});

describe('RequestWatcher', () => {
  let dir: string;
  let owner: Store;
  let requester: Store;
  let wallMs: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'governor-operator-commands-'));
    owner = Store.open(join(dir, 'governor.db'));
    requester = Store.open(join(dir, 'governor.db'));
    wallMs = Date.UTC(2026, 0, 1);
  });
  afterEach(() => {
    owner.close();
    requester.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function request(
    input: Partial<OperatorRequestInput> & Pick<OperatorRequestInput, 'command'>,
  ): number {
    return requester.operatorRequests.record(
      { operator: 'carol', reason: 'from the CLI', requestedBy: 'cli pid 2 on host', ...input },
      wallMs,
    ).id;
  }

  function watcher(target: CommandTarget, onExternalChange?: () => void): RequestWatcher {
    return new RequestWatcher(owner, target, {
      logger: silentLogger(),
      wallNow: () => wallMs,
      handledBy: 'owner pid 1 on host',
      ...(onExternalChange === undefined ? {} : { onExternalChange }),
    });
  }

  it('carries out pending requests oldest first, once each, recording done with the result', async () => {
    const { target, rec } = recordingTarget();
    const first = request({ command: 'observe' });
    const second = request({ command: 'shutdown' });
    const w = watcher(target);
    expect(await w.drain()).toBe(2);
    expect(rec.calls).toEqual(['observe carol: from the CLI', 'shutdown carol: from the CLI']);
    for (const id of [first, second]) {
      expect(owner.operatorRequests.get(id)).toMatchObject({
        status: 'done',
        handledAtMs: wallMs,
        handledBy: 'owner pid 1 on host',
        result: { state: 'OBSERVE_ONLY', handledBy: 'owner pid 1 on host' },
      });
    }
    expect(await w.drain()).toBe(0);
    expect(rec.calls).toHaveLength(2);
  });

  it("a GovernorError refusal is recorded as refused with its code; any other error as failed ('FAILED')", async () => {
    const { target, rec } = recordingTarget();
    rec.shutdown = () => {
      throw new GovernorError('GOV_REASON_REQUIRED', 'a reason is required');
    };
    const refused = request({ command: 'shutdown' });
    const w = watcher(target);
    await w.drain();
    expect(owner.operatorRequests.get(refused)).toMatchObject({
      status: 'refused',
      result: { code: 'GOV_REASON_REQUIRED', state: 'OBSERVE_ONLY' },
    });
    rec.shutdown = () => {
      throw new TypeError('boom');
    };
    const failed = request({ command: 'shutdown' });
    await w.drain();
    expect(owner.operatorRequests.get(failed)).toMatchObject({
      status: 'failed',
      result: { code: 'FAILED', message: expect.stringContaining('boom') },
    });
  });

  it("a GovernorError that is not an operator's refusal is recorded as failed", async () => {
    const { target, rec } = recordingTarget();
    rec.shutdown = () => {
      throw new GovernorError('GOV_STORE_CLOSED', 'closed');
    };
    const id = request({ command: 'shutdown' });
    await watcher(target).drain();
    expect(owner.operatorRequests.get(id)).toMatchObject({
      status: 'failed',
      result: { code: 'GOV_STORE_CLOSED' },
    });
  });

  it("poll wakes on another connection's commit only, and tells onExternalChange", async () => {
    const { target, rec } = recordingTarget();
    let changes = 0;
    const w = watcher(target, () => {
      changes++;
    });
    w.poll();
    await w.drain();
    expect(changes).toBe(1);
    w.poll();
    expect(changes).toBe(1);
    request({ command: 'observe' });
    w.poll();
    expect(changes).toBe(2);
    await w.drain();
    expect(rec.calls).toEqual(['observe carol: from the CLI']);
  });

  it('once stopped it polls and carries out nothing', async () => {
    const { target, rec } = recordingTarget();
    const w = watcher(target);
    w.stop();
    request({ command: 'observe' });
    w.poll();
    expect(await w.drain()).toBe(0);
    expect(rec.calls).toEqual([]);
  });
});
