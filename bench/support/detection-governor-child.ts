/**
 * Child process of bench/detection.ts: governor on the real SystemClock and real SQLite files.
 * It keeps a pool of governors for the whole run. A round brings each back to AGGRESSIVE (an
 * operator restart after the previous round's SHUTDOWN) while no deadline is pending, then lets
 * their market data go stale one after another, SPACING_MS apart, and times each fail-safe:
 * from the deadline to the gate latched shut, to the CRITICAL alert persisted, and to the
 * mode-change listeners told. Each round writes its incidents along the path the parent names:
 * the shipped one-commit path, or the former two-commit one (an internal switch of governor's,
 * not exported by the package).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GovernanceSystem } from '../../index.js';
import { ALERT_IN_ITS_OWN_TRANSACTION } from '../../services/governor/internal-symbols.js';
import {
  type ChildRequest,
  type GovernorRound,
  type GovernorSample,
  type IncidentPath,
  SPACING_MS,
  scheduleStarts,
  THRESHOLD_MS,
} from './detection-protocol.js';

/** How often the market data of governors not yet released is refreshed, as an engine would. */
const REFRESH_MS = 100;
/** A round that has not finished this long after its last deadline has failed. */
const ROUND_OVERRUN_MS_MAX = 30_000;
const OPERATOR = { operator: 'bench', reason: 'bench/detection: next trial' };

/** One governor of the pool, and the trial it is running. */
interface Subject {
  readonly governance: GovernanceSystem;
  readonly alertIdsSeen: Set<string>;
  released: boolean;
  deadlineMs: number;
  triggeredAtMs: number;
  persistedAtMs: number;
  toldAtMs: number;
  alertId: string;
  trigger: string;
  settle: (error?: Error) => void;
  done: Promise<void>;
}

function createSubject(dbPath: string): Subject {
  const governance = new GovernanceSystem({
    dbPath,
    thresholds: {
      marketDataUnhealthyAfterMs: THRESHOLD_MS,
      marketDataShutdownAfterMs: THRESHOLD_MS,
    },
    inspect: (event) => {
      if (event.type !== '@xstate.event' || event.event.type !== 'failsafe.triggered') return;
      subject.triggeredAtMs = performance.now();
      // The gate closed at its deadline by itself; the machine only latches it.
      if (governance.canDeployCapital()) subject.settle(new Error('gate open past its deadline'));
    },
  });
  const subject: Subject = {
    governance,
    alertIdsSeen: new Set(),
    released: false,
    deadlineMs: Number.NaN,
    triggeredAtMs: Number.NaN,
    persistedAtMs: Number.NaN,
    toldAtMs: Number.NaN,
    alertId: '',
    trigger: '',
    settle: () => {},
    done: Promise.resolve(),
  };
  governance.onAlert((alert) => {
    // Told synchronously once the alert is stored: its commit (one path or the other) returned.
    if (alert.kind !== 'SHUTDOWN' || !subject.released || subject.alertId !== '') return;
    subject.persistedAtMs = performance.now();
    subject.alertId = alert.alertId;
  });
  governance.onModeChange((change) => {
    if (change.to !== 'SHUTDOWN') return;
    subject.toldAtMs = performance.now();
    // Both rules see the same stale market data (stale and stall thresholds are equal here).
    const staleMarketData =
      change.trigger === 'MARKET_DATA_STALL' ||
      (change.trigger === 'HEALTH_CHECK_FAILED' && /market data/.test(change.reason ?? ''));
    if (!subject.released || !staleMarketData) {
      subject.settle(
        new Error(`unexpected SHUTDOWN (released ${subject.released}): ${change.reason}`),
      );
      return;
    }
    subject.trigger = change.trigger ?? '';
    // Read back from the database: the alert its listener saw is the new CRITICAL one.
    const alert = governance.alertManager.getAlerts(1)[0];
    if (
      alert === undefined ||
      alert.severity !== 'CRITICAL' ||
      alert.alertId !== subject.alertId ||
      subject.alertIdsSeen.has(alert.alertId)
    ) {
      subject.settle(new Error('no new CRITICAL alert persisted'));
      return;
    }
    subject.alertIdsSeen.add(alert.alertId);
    subject.settle();
  });
  return subject;
}

/** Back to AGGRESSIVE with fresh inputs, and a new trial armed (not yet released). */
async function prepare(subject: Subject, path: IncidentPath): Promise<void> {
  const { governance } = subject;
  governance.healthMonitor.updateMarketDataTimestamp();
  if (governance.getState() === 'SHUTDOWN') governance.operatorRestart(OPERATOR);
  governance[ALERT_IN_ITS_OWN_TRANSACTION](path === 'before');
  subject.released = false;
  subject.deadlineMs = subject.triggeredAtMs = subject.persistedAtMs = Number.NaN;
  subject.toldAtMs = Number.NaN;
  subject.alertId = '';
  subject.done = new Promise<void>((resolve, reject) => {
    subject.settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  if (!(await governance.runStartupChecks()) || !governance.canDeployCapital()) {
    throw new Error(`startup checks did not reach AGGRESSIVE: ${governance.getState()}`);
  }
}

function release(subjects: readonly Subject[]): Promise<void> {
  const refresher = setInterval(() => {
    for (const subject of subjects) {
      if (!subject.released) subject.governance.healthMonitor.updateMarketDataTimestamp();
    }
  }, REFRESH_MS);
  scheduleStarts(subjects.length, (k) => {
    const subject = subjects[k]!;
    // Read just before the stamp: the gate's own deadline is at or after this one.
    subject.deadlineMs = performance.now() + THRESHOLD_MS;
    subject.released = true;
    subject.governance.healthMonitor.updateMarketDataTimestamp();
    if (k === subjects.length - 1) clearInterval(refresher);
  });
  const overrunMs = subjects.length * SPACING_MS + THRESHOLD_MS + ROUND_OVERRUN_MS_MAX;
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('a round did not finish')), overrunMs);
  });
  return Promise.race([Promise.all(subjects.map((s) => s.done)), overrun]).then(
    () => clearTimeout(timer),
    (error: unknown) => {
      clearTimeout(timer);
      clearInterval(refresher);
      throw error;
    },
  );
}

function samples(subjects: readonly Subject[]): GovernorSample[] {
  return subjects.map((subject) => ({
    gateLatchedMs: subject.triggeredAtMs - subject.deadlineMs,
    alertPersistedMs: subject.persistedAtMs - subject.deadlineMs,
    toldMs: subject.toldAtMs - subject.deadlineMs,
    trigger: subject.trigger,
    // Another governor's shutdown ran between this deadline and its detection, delaying it.
    overlapped: subjects.some(
      (other) =>
        other !== subject &&
        other.triggeredAtMs < subject.triggeredAtMs &&
        other.toldAtMs > subject.deadlineMs,
    ),
  }));
}

const dir = mkdtempSync(join(tmpdir(), 'governor-bench-detection-'));
const pool: Subject[] = [];

async function round(count: number, path: IncidentPath): Promise<GovernorRound> {
  while (pool.length < count) pool.push(createSubject(join(dir, `governor-${pool.length}.db`)));
  const subjects = pool.slice(0, count);
  for (const subject of subjects) {
    await prepare(subject, path);
    // Preparing takes tens of ms per governor: keep the ones prepared before fresh meanwhile.
    for (const other of subjects) other.governance.healthMonitor.updateMarketDataTimestamp();
  }
  await release(subjects);
  return { kind: 'governor', path, samples: samples(subjects) };
}

function end(code: number): never {
  for (const subject of pool) subject.governance.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}

const send = process.send?.bind(process);
if (send === undefined) throw new Error('detection-governor-child runs under bench/detection.ts');
process.on('message', (message: ChildRequest) => {
  if (message.kind === 'end') end(0);
  round(message.trials, message.path ?? 'after').then(
    (result) => send(result),
    (error: unknown) => {
      console.error(error);
      end(1);
    },
  );
});
send({ kind: 'ready' });
