/**
 * Goal: kill -9 at any write of an incident leaves its latch and its CRITICAL alert both on
 * disk or neither: never an alert without its latch, never a latch whose alert was lost (the
 * two used to be separate commits, and a kill between them left the latch alone). Nothing is
 * delivered before both are durable, and a restart into the latch delivers the alert once.
 * A child process (fixtures/kill-during-incident.ts) SIGKILLs itself at write K of the
 * incident, for every K until one runs past the incident's last write, and once when the
 * committed alert is told, before its delivery's turn.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../../persistence/index.js';
import type { GovernorAlert } from '../../../services/alerts/types.js';
import { SimulatedClock } from '../../../services/clock.js';
import { GovernanceSystem } from '../../../services/governor/governance-system.js';
import { recordingSink, settle, tempDir } from '../../support/harness.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/kill-during-incident.ts', import.meta.url));
const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** An incident makes about a dozen writes; far more means the fixture never finishes. */
const WRITES_MAX = 60;

interface Run {
  readonly signal: NodeJS.Signals | null;
  readonly lines: string[];
}

function runChild(dbPath: string, killAt: number | 'told'): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dbPath, String(killAt)], {
      cwd: REPOSITORY_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) {
        reject(new Error(`child exited with ${code}: ${stderr}`));
      } else resolve({ signal, lines: stdout.split('\n').filter((line) => line !== '') });
    });
  });
}

interface OnDisk {
  readonly latch: boolean;
  readonly shutdownEvent: boolean;
  readonly alert: boolean;
  readonly alertEvent: boolean;
  readonly outboxRows: number;
}

function onDisk(dbPath: string): OnDisk {
  const store = Store.open(dbPath, { readonly: true });
  try {
    const verification = store.integrityScan.verifyChain();
    expect(verification.ok, JSON.stringify(verification)).toBe(true);
    const types = new Set([...store.events.iterate(1)].map((e) => e.eventType));
    const alerts = store.alerts.list().filter((a) => a.kind === 'SHUTDOWN');
    expect(alerts.length).toBeLessThanOrEqual(1);
    return {
      latch: store.systemState.get().latch !== null,
      shutdownEvent: types.has('SYSTEM_SHUTDOWN'),
      alert: alerts.length === 1,
      alertEvent: types.has('ALERT_RAISED'),
      outboxRows: alerts[0] === undefined ? 0 : store.alertOutbox.list({ limit: 10 }).length,
    };
  } finally {
    store.close();
  }
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('kill -9 during an incident', () => {
  it('at every write of the incident: its latch and its alert are both durable or neither, and nothing was delivered before', async () => {
    const dir = tempDir('governor-incident-crash-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    let finished: number | null = null;
    const killedWhere: string[] = [];
    const points: Array<number | 'told'> = ['told'];
    for (let k = 1; k <= WRITES_MAX; k++) points.push(k);
    for (const k of points) {
      if (finished !== null) break;
      const dbPath = `${dir}/kill-at-${k}.db`;
      const run = await runChild(dbPath, k);
      const state = onDisk(dbPath);
      const context = `kill at ${k}: ${run.lines.join(' | ')}`;
      // The incident's latch, its justifying event, its alert and its outbox row: all or none.
      expect([state.shutdownEvent, state.alert, state.alertEvent], context).toEqual([
        state.latch,
        state.latch,
        state.latch,
      ]);
      expect(state.outboxRows, context).toBe(state.latch ? 1 : 0);
      if (run.signal === 'SIGKILL') {
        killedWhere.push(run.lines[run.lines.length - 1] ?? '');
        expect(
          run.lines.filter((line) => line.startsWith('delivered')),
          context,
        ).toEqual([]);
        // Told means committed: the latch and the alert were both on disk.
        if (k === 'told') expect(state.latch, context).toBe(true);
      } else {
        expect(k, context).not.toBe('told');
        const done = run.lines.find((line) => line.startsWith('done '));
        expect(done, context).toBeDefined();
        finished = Number(done?.split(' ')[1]);
        expect(state.latch, context).toBe(true);
        expect(run.lines.slice(-1), context).toEqual(['delivered SHUTDOWN']);
      }
      // A restart finds the latch (if it was committed) and delivers its alert once (from the
      // outbox) unless the killed process had delivered it; no latch, no alert.
      if (state.latch) {
        const delivered: GovernorAlert[] = [];
        const gov = new GovernanceSystem({
          dbPath,
          clock: new SimulatedClock(),
          alertSinks: [{ ...recordingSink(delivered), name: 'stdout' }],
        });
        cleanups.push(() => gov.close());
        expect(await gov.runStartupChecks()).toBe(false);
        expect(gov.getState()).toBe('SHUTDOWN');
        await gov.alertManager.flush();
        await settle();
        const expected = run.signal === 'SIGKILL' ? ['SHUTDOWN'] : [];
        expect(
          delivered.map((a) => a.kind),
          context,
        ).toEqual(expected);
      }
    }
    expect(finished, `killed at: ${killedWhere.join('; ')}`).not.toBeNull();
    // The kills landed inside the incident's one transaction (at its alert row too) and after it.
    expect(killedWhere).toContain('told SHUTDOWN');
    expect(killedWhere.some((line) => / alerts\.insert$/.test(line))).toBe(true);
  }, 600_000);
});
