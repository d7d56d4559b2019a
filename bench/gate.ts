/**
 * Benchmark: the cost of the gate, `canDeployCapital()`, against its floor: a boolean and a
 * monotonic clock comparison (what the gate must do at the least), measured in the same run,
 * interleaved over rounds so that machine noise hits both alike. Target ratio ≤ 1.5. The
 * governor has venues registered (in memory, their dead man's switches armed): the gate's cost
 * must not depend on them.
 */
import { GovernanceSystem, type Venue } from '../index.js';

/** A venue that answers at once: what registering venues adds to the gate, and nothing else. */
function inMemoryVenue(name: string): Venue {
  return {
    name,
    cancelAllOrders: async () => 0,
    countOpenOrders: async () => 0,
    armDeadMansSwitch: async () => {},
    disarmDeadMansSwitch: async () => {},
  };
}

const CALLS_PER_ROUND = 2_000_000;
const ROUNDS = 15;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** The baseline: a flag and a lease read on the monotonic clock, as cheap as a gate can be. */
class BaselineGate {
  open = true;
  leaseExpiresAtMs = performance.now() + 3_600_000;
  canDeployCapital(): boolean {
    return this.open && performance.now() < this.leaseExpiresAtMs;
  }
}

function timeCalls(call: () => boolean): { nsPerCall: number; opened: number } {
  let opened = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS_PER_ROUND; i++) if (call()) opened++;
  const elapsedNs = Number(process.hrtime.bigint() - start);
  return { nsPerCall: elapsedNs / CALLS_PER_ROUND, opened };
}

async function main(): Promise<void> {
  const governance = new GovernanceSystem({
    dbPath: ':memory:',
    venues: [inMemoryVenue('venue-a'), inMemoryVenue('venue-b')],
  });
  if (!(await governance.runStartupChecks())) throw new Error('startup checks failed');
  const baseline = new BaselineGate();
  const gateCall = (): boolean => governance.canDeployCapital();
  const baselineCall = (): boolean => baseline.canDeployCapital();
  // Warm-up: let both reach their optimised tiers.
  timeCalls(gateCall);
  timeCalls(baselineCall);
  const gateNs: number[] = [];
  const baselineNs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const [first, second] = round % 2 === 0 ? [gateCall, baselineCall] : [baselineCall, gateCall];
    const a = timeCalls(first);
    const b = timeCalls(second);
    const gate = round % 2 === 0 ? a : b;
    const base = round % 2 === 0 ? b : a;
    if (gate.opened !== CALLS_PER_ROUND) throw new Error('the gate closed during the benchmark');
    gateNs.push(gate.nsPerCall);
    baselineNs.push(base.nsPerCall);
  }
  governance.close();
  const gate = median(gateNs);
  const base = median(baselineNs);
  const ratio = gate / base;
  console.log(
    `bench/gate: ${ROUNDS} rounds x ${CALLS_PER_ROUND.toLocaleString('en')} calls, medians (2 venues registered)`,
  );
  console.log(`  canDeployCapital()          ${gate.toFixed(1)} ns/call`);
  console.log(`  baseline (flag + monotonic) ${base.toFixed(1)} ns/call`);
  console.log(
    `  ratio governor/baseline     ${ratio.toFixed(2)} (target <= 1.5) ${ratio <= 1.5 ? 'PASS' : 'MISS'}`,
  );
}

await main();
