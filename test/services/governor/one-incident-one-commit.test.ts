/**
 * Goal: an incident (a fail-safe trigger or an operator's kill entering SHUTDOWN) costs one
 * commit, hence one fsync: its events, the latch and the CRITICAL alert's row together. The
 * gate is closed before any write; the latch is durable before the alert reaches a sink; an
 * alert row that cannot be written does not take the latch with it; a database that takes
 * nothing still ends in the fallback file with the alert delivered.
 *
 * Commits are counted from a second connection: `PRAGMA data_version` changes when another
 * connection has committed. The store consults its FaultInjector before every write, nested
 * ones included, so a probe there reads the version at each write the incident makes; the
 * distinct versions seen up to the alert's listener count the commits that came between.
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultInjector } from '../../../persistence/faults.js';
import type { Store } from '../../../persistence/index.js';
import type { AlertSink, GovernorAlert } from '../../../services/alerts/types.js';
import { type Harness, makeHarness, settle } from '../../support/harness.js';

let h: Harness;
afterEach(() => h?.cleanup());

/** A FaultInjector that, while armed, reads a second connection's data_version at each write. */
class CommitProbe extends FaultInjector {
  reader: Store | null = null;
  readonly versions: number[] = [];
  armed = false;

  override beforeWrite(operation: string): void {
    if (this.armed && this.reader !== null) this.versions.push(this.reader.dataVersion());
    super.beforeWrite(operation);
  }

  /** The commits seen since arming: how many times the version changed. */
  commits(): number {
    let changes = 0;
    for (let i = 1; i < this.versions.length; i++) {
      if (this.versions[i] !== this.versions[i - 1]) changes++;
    }
    return changes;
  }
}

/** What a sink (and the alert's listener) saw of the database when the alert reached it. */
interface Seen {
  readonly alert: GovernorAlert;
  readonly latchDurable: boolean;
}

function setUp(): { probe: CommitProbe; delivered: Seen[]; told: Seen[] } {
  const probe = new CommitProbe();
  const delivered: Seen[] = [];
  const told: Seen[] = [];
  const sink: AlertSink = {
    name: 'latch-checking',
    deliver: (alert) => {
      delivered.push({ alert, latchDurable: probe.reader?.systemState.get().latch != null });
    },
  };
  h = makeHarness({ system: { faults: probe, alertSinks: [sink] } });
  probe.reader = h.reader();
  h.gov.onAlert((alert) => {
    if (alert.kind !== 'SHUTDOWN') return;
    // The alert is stored and told: the commits up to here are the incident's.
    probe.versions.push(probe.reader?.dataVersion() ?? -1);
    probe.armed = false;
    told.push({ alert, latchDurable: probe.reader?.systemState.get().latch != null });
  });
  return { probe, delivered, told };
}

describe('one incident, one commit', () => {
  it('an incident was written in two transactions: the shutdown (events, latch) committed, then the alert row in a second commit; now one', async () => {
    const { probe, delivered, told } = setUp();
    expect(await h.gov.runStartupChecks()).toBe(true);
    const reader = probe.reader as Store;
    const eventsBefore = reader.events.count();
    probe.versions.push(reader.dataVersion());
    probe.armed = true;

    h.gov.failSafeManager.triggerShutdown('UNRECOVERABLE_EXCEPTION', 'engine crashed: boom');

    expect(told).toHaveLength(1);
    expect(probe.commits()).toBe(1);
    // That one commit holds the whole incident: events, latch and alert row.
    const flow = [...reader.events.iterate(1)].slice(eventsBefore).map((e) => e.eventType);
    expect(flow).toEqual([
      'SYSTEM_SHUTDOWN',
      'SYSTEM_MODE_CHANGE',
      'FINAL_STATE_PERSISTED',
      'ALERT_RAISED',
    ]);
    expect(reader.systemState.get().latch?.trigger).toBe('UNRECOVERABLE_EXCEPTION');
    expect(reader.alerts.get(told[0]?.alert.alertId ?? '')?.severity).toBe('CRITICAL');
    expect(h.gov.failSafeManager.getFailSafeState().persistedTo).toBe('database');
    // Told, then delivered, only once the latch was durable.
    expect(told[0]?.latchDurable).toBe(true);
    await settle();
    expect(delivered.map((d) => [d.alert.kind, d.latchDurable])).toEqual([['SHUTDOWN', true]]);
  });

  it("an operator's kill is one commit too (its audit row follows, in a commit of its own)", async () => {
    const { probe, told } = setUp();
    expect(await h.gov.runStartupChecks()).toBe(true);
    probe.versions.push((probe.reader as Store).dataVersion());
    probe.armed = true;
    h.gov.operatorShutdown({ operator: 'ann', reason: 'exchange incident' });
    expect(told).toHaveLength(1);
    expect(probe.commits()).toBe(1);
    expect((probe.reader as Store).systemState.get().latch?.trigger).toBe('OPERATOR_KILL');
  });

  it('the gate is closed before the incident writes anything', async () => {
    const { probe } = setUp();
    expect(await h.gov.runStartupChecks()).toBe(true);
    const gateAtWrites: boolean[] = [];
    const probeWrite = probe.beforeWrite.bind(probe);
    probe.beforeWrite = (operation: string) => {
      gateAtWrites.push(h.gov.canDeployCapital());
      probeWrite(operation);
    };
    h.gov.failSafeManager.triggerShutdown('UNRECOVERABLE_EXCEPTION', 'engine crashed');
    expect(gateAtWrites.length).toBeGreaterThan(0);
    expect(gateAtWrites.every((open) => !open)).toBe(true);
  });

  it.each(['alerts.insert', 'alertOutbox.add'])(
    'an alert row the database refuses (%s) does not roll the latch back; the alert still goes out',
    async (operation) => {
      const { probe, delivered, told } = setUp();
      expect(await h.gov.runStartupChecks()).toBe(true);
      const reader = probe.reader as Store;
      const eventsBefore = reader.events.count();
      probe.setMode('SQLITE_FULL', { operations: [operation] });

      h.gov.failSafeManager.triggerShutdown('UNRECOVERABLE_EXCEPTION', 'engine crashed');

      expect(h.gov.canDeployCapital()).toBe(false);
      expect(h.gov.failSafeManager.getFailSafeState().persistedTo).toBe('database');
      expect(reader.systemState.get().latch?.trigger).toBe('UNRECOVERABLE_EXCEPTION');
      const flow = [...reader.events.iterate(1)].slice(eventsBefore).map((e) => e.eventType);
      expect(flow).toEqual(['SYSTEM_SHUTDOWN', 'SYSTEM_MODE_CHANGE', 'FINAL_STATE_PERSISTED']);
      expect(reader.alerts.list()).toEqual([]);
      expect(told.map((t) => [t.alert.severity, t.latchDurable])).toEqual([['CRITICAL', true]]);
      await settle();
      expect(delivered.map((d) => [d.alert.kind, d.latchDurable])).toEqual([['SHUTDOWN', true]]);
      // Kept in memory, it is stored once the database takes it again.
      probe.setMode(null);
      h.clock.advance(30_000);
      expect(reader.alerts.list().map((a) => a.alertId)).toEqual([told[0]?.alert.alertId]);
    },
  );

  it('an alert row whose failure ends the whole transaction (as SQLite may on a full disk): the latch is written again without it', async () => {
    const { probe, delivered, told } = setUp();
    expect(await h.gov.runStartupChecks()).toBe(true);
    const reader = probe.reader as Store;
    const eventsBefore = reader.events.count();
    // RAISE(ROLLBACK) ends the enclosing transaction, not only the statement or its savepoint.
    h.tamper().exec(
      "CREATE TRIGGER refuse_alert BEFORE INSERT ON alerts BEGIN SELECT RAISE(ROLLBACK, 'refused'); END",
    );

    h.gov.failSafeManager.triggerShutdown('UNRECOVERABLE_EXCEPTION', 'engine crashed');

    expect(h.gov.canDeployCapital()).toBe(false);
    expect(h.gov.failSafeManager.getFailSafeState().persistedTo).toBe('database');
    expect(reader.systemState.get().latch?.trigger).toBe('UNRECOVERABLE_EXCEPTION');
    const flow = [...reader.events.iterate(1)].slice(eventsBefore).map((e) => e.eventType);
    expect(flow).toEqual(['SYSTEM_SHUTDOWN', 'SYSTEM_MODE_CHANGE', 'FINAL_STATE_PERSISTED']);
    expect(reader.alerts.list()).toEqual([]);
    expect(told.map((t) => [t.alert.severity, t.latchDurable])).toEqual([['CRITICAL', true]]);
    await settle();
    expect(delivered.map((d) => [d.alert.kind, d.latchDurable])).toEqual([['SHUTDOWN', true]]);
  });

  it('a database that takes nothing: the latch goes to the fallback file, the alert out from memory', async () => {
    const { probe, delivered, told } = setUp();
    expect(await h.gov.runStartupChecks()).toBe(true);
    probe.setMode('SQLITE_IOERR');

    h.gov.failSafeManager.triggerShutdown('UNRECOVERABLE_EXCEPTION', 'disk trouble');

    expect(h.gov.canDeployCapital()).toBe(false);
    expect(h.gov.failSafeManager.getFailSafeState().persistedTo).toBe('fallback-file');
    expect(existsSync(`${h.dbPath}.shutdown.json`)).toBe(true);
    expect((probe.reader as Store).systemState.get().latch).toBeNull();
    expect(told.map((t) => t.alert.metadata?.persistedTo)).toEqual(['fallback-file']);
    await settle();
    expect(delivered.map((d) => d.alert.kind)).toEqual(['SHUTDOWN']);
  });
});
