/**
 * A child process of the fleet bench (bench/fleet.ts), one per host. As `host` it embeds
 * governor through its public API with the `authority` option, keeps its inputs fresh, asks the
 * gate every millisecond and at each change of its lease (`onAuthorityLease`), and prints a JSON
 * line at each change of the answer with the wall time (Date.now(), CLOCK_REALTIME: the clock
 * PostgreSQL's now() reads on this machine); `restart` on stdin is the local operator restart.
 * As `listener` it LISTENs on a bare channel and prints, per notification, its wall time minus
 * the sender's (the payload): the bench's baseline.
 */
import { createInterface } from 'node:readline';
import pg from 'pg';
import { GovernanceSystem } from '../../index.js';

const env = process.env;
const host = env.FLEET_HOST ?? 'host';

function say(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ host, ...message })}\n`);
}

if (env.FLEET_ROLE === 'listener') {
  const client = new pg.Client({ connectionString: env.FLEET_URL ?? '' });
  await client.connect();
  client.on('notification', (message) => {
    say({ type: 'heard', latencyMs: Date.now() - Number(message.payload) });
  });
  await client.query('LISTEN bench');
  say({ type: 'listening' });
  process.on('SIGTERM', () => process.exit(0));
} else {
  const gov = new GovernanceSystem({
    dbPath: env.FLEET_DB ?? `${host}.db`,
    authority: {
      url: env.FLEET_URL ?? '',
      host,
      scopes: (env.FLEET_SCOPES ?? 'firm').split(','),
      leaseMs: Number(env.FLEET_LEASE_MS ?? 3_000),
    },
  });
  gov.onModeChange((change) => say({ type: 'state', state: change.to }));
  let open = false;
  const ask = (): void => {
    const answer = gov.canDeployCapital();
    if (answer !== open) say({ type: answer ? 'open' : 'closed', wallMs: Date.now() });
    open = answer;
  };
  // Asked every millisecond, and at each change of the lease (told synchronously: a fence closes
  // the gate there, before the shutdown's own work runs on this event loop).
  setInterval(ask, 1);
  gov.onAuthorityLease(ask);
  setInterval(() => {
    gov.healthMonitor.updateMarketDataTimestamp();
    gov.healthMonitor.updateSnapshotWriteTimestamp();
  }, 100);
  const checked = (passed: boolean): void => say({ type: 'checks', passed });
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'restart') return;
    try {
      gov.operatorRestart({ operator: 'bench', reason: 'next trial' }, { force: true });
      void gov.runStartupChecks().then(checked);
    } catch (error) {
      say({ type: 'error', message: String(error) });
    }
  });
  process.on('SIGTERM', () => {
    gov.close();
    process.exit(0);
  });
  void gov.runStartupChecks().then(checked);
}
