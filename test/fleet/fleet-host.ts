/**
 * A fleet host for the fault tests: a child process that embeds governor with the `authority`
 * option, keeps its inputs fresh, asks the gate every millisecond and records every change of
 * its answer (and the last `true` before each `false`) with a system-wide monotonic timestamp
 * (CLOCK_MONOTONIC, the same in every process). Commands on stdin: `restart` (the local
 * operator restart, then the checks). Its state changes go to stdout as JSON lines.
 */
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { GovernanceSystem } from '../../services/governor/governance-system.js';

const env = process.env;
const host = env.FLEET_HOST ?? 'host';
const historyPath = env.FLEET_HISTORY ?? `${host}.history`;
const leaseMs = Number(env.FLEET_LEASE_MS ?? 600);

/** System-wide monotonic ms (CLOCK_MONOTONIC): comparable across the test's processes. */
function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function say(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ host, t: monotonicMs(), ...message })}\n`);
}

const gov = new GovernanceSystem({
  dbPath: env.FLEET_DB ?? `${host}.db`,
  authority: {
    url: env.FLEET_URL ?? '',
    host,
    scopes: (env.FLEET_SCOPES ?? 'firm').split(','),
    leaseMs,
    authorityLossMs: Number(env.FLEET_LOSS_MS ?? 60_000),
  },
  thresholds: { heartbeatIntervalMs: 200, heartbeatLossMs: 5_000 },
});
gov.onModeChange((change) => say({ type: 'state', state: change.to }));

let open = false;
let lastTrueAt = 0;
function record(t: number, isOpen: boolean): void {
  appendFileSync(historyPath, `${t.toFixed(3)} ${isOpen ? 1 : 0}\n`);
}
function sample(): void {
  const answer = gov.canDeployCapital();
  const t = monotonicMs();
  if (answer) {
    lastTrueAt = t;
    if (!open) record(t, true);
  } else if (open) {
    record(lastTrueAt, true);
    record(t, false);
  }
  open = answer;
}
setInterval(sample, 1);
setInterval(() => {
  gov.healthMonitor.updateMarketDataTimestamp();
  gov.healthMonitor.updateSnapshotWriteTimestamp();
}, 100);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'restart') {
    try {
      gov.operatorRestart({ operator: 'fleet-test', reason: 'after the release' }, { force: true });
      void gov.runStartupChecks().then(checked);
    } catch (error) {
      say({ type: 'error', message: String(error) });
    }
  }
});
process.on('SIGTERM', () => {
  gov.close();
  process.exit(0);
});

function checked(passed: boolean): void {
  const failed = (gov.getLastStartupReport()?.results ?? [])
    .filter((r) => !r.passed)
    .map((r) => r.details);
  say({ type: 'checks', passed, failed });
  if (!passed) process.stderr.write(`${host}: checks failed: ${failed.join('; ')}\n`);
}

void gov.runStartupChecks().then(checked);
say({ type: 'started', pid: process.pid });
