/**
 * `npm run fleet:soak -- --runs 200 [--seed N] [--lease-ms MS]`: a long seeded fault schedule
 * against five governor processes and a real PostgreSQL (fault-run.ts), then the checker's
 * verdict. Exits 1 on any violation, printing the seed and the schedule to replay it.
 */
import { parseArgs } from 'node:util';
import { runFleetFaults } from './fault-run.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    'lease-ms': { type: 'string', default: '600' },
  },
});
const runs = Number(values.runs);
const seed = Number(values.seed);
const leaseMs = Number(values['lease-ms']);
const started = performance.now();
const result = await runFleetFaults({
  runs,
  seed,
  leaseMs,
  log: (line) => process.stdout.write(`${line}\n`),
});
const seconds = ((performance.now() - started) / 1000).toFixed(0);
const confirms = [...result.confirmMs].sort((a, b) => a - b);
const p99 = confirms[Math.min(confirms.length - 1, Math.floor(confirms.length * 0.99))];
process.stdout.write(
  `fleet soak: seed ${seed}, ${runs} episodes, lease ${leaseMs} ms, ${seconds} s: ${result.violations.length} violations; kill → all confirmed p99 ${p99 ?? '-'} ms over ${confirms.length} kills\n`,
);
for (const violation of result.violations) {
  process.stdout.write(
    `VIOLATION ${violation.host}: ${violation.why}, open ${violation.lateMs.toFixed(1)} ms past the lease\n`,
  );
}
process.exit(result.violations.length === 0 ? 0 : 1);
