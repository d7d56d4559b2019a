/**
 * Benchmark: how long a `governor` command takes to start and answer, run from dist/ as an
 * operator runs it, against a bare `node -e 0` measured in the same run (the floor every
 * command pays). Cases: `governor --help`; `governor status` answered by a running daemon over
 * its control socket; `governor status` read from the database with nothing running; and, for
 * comparison only, that last one run from the command's bundle directly, without the V8 code
 * cache dist/bin/governor.js compiles it from (how the command started before). Two
 * measurements: hyperfine (when installed: `apt-get install hyperfine`), and this script's own
 * alternating rounds (each round runs every case once, in a rotated order, so that a noisy
 * neighbour slows all cases alike). Reports medians and means and their ratios to the baseline.
 * Target: ratio ≤ 1.6 for `--help` and `status`. Run: npm run build && npm run bench:cli
 * (BENCH_ROUNDS to change the count). JSON in test-artifacts/bench-cli.json.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, percentile } from './support/stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const GOVERNOR = join(ROOT, 'dist', 'bin', 'governor.js');
/** The command's bundle run directly: what `governor` costs without its V8 code cache. */
const COMMAND_BUNDLE = join(ROOT, 'dist', 'bin', 'governor-command.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const WARMUP_ROUNDS = 3;
const TARGET_RATIO = 1.6;
/** A liveness bound: the daemon must answer status within this, or the benchmark stops. */
const DAEMON_READY_MS_MAX = 60_000;

interface Case {
  readonly name: string;
  readonly argv: readonly string[];
  /** The baseline has no target; every other case is compared with it. */
  readonly baseline?: boolean;
  /** A variant measured only for comparison (how the command started before), no target. */
  readonly comparison?: boolean;
}

interface Figures {
  readonly name: string;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly meanMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The environment of every command: no colour, and a config file that sets nothing. */
function commandEnv(configPath: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('GOVERNOR_')) env[key] = value;
  }
  return { ...env, NO_COLOR: '1', GOVERNOR_CONFIG: configPath };
}

function runOnce(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const elapsed = performance.now() - started;
  if (result.status !== 0) {
    throw new Error(`${argv.join(' ')} exited ${result.status}: ${result.stderr.toString()}`);
  }
  return elapsed;
}

async function startDaemon(dbPath: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const daemon = spawn(process.execPath, [GOVERNOR, 'run', '--db', dbPath, '--no-api'], {
    env,
    stdio: 'ignore',
  });
  const deadline = performance.now() + DAEMON_READY_MS_MAX;
  for (;;) {
    const status = spawnSync(process.execPath, [GOVERNOR, 'status', '--json', '--db', dbPath], {
      env,
    });
    if (status.status === 0 && JSON.parse(status.stdout.toString()).source === 'live') {
      return daemon;
    }
    if (performance.now() > deadline) {
      daemon.kill('SIGKILL');
      throw new Error('the daemon did not answer status in time');
    }
    await sleep(200);
  }
}

async function stopDaemon(daemon: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  daemon.kill('SIGTERM');
  await exited;
}

/** This script's own measurement: alternating, rotated rounds. */
function alternatingRounds(cases: readonly Case[], env: NodeJS.ProcessEnv): Figures[] {
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    for (let offset = 0; offset < cases.length; offset++) {
      const item = cases[(round + offset) % cases.length] as Case;
      const elapsed = runOnce(item.argv, env);
      if (round >= WARMUP_ROUNDS) samples.get(item.name)?.push(elapsed);
    }
  }
  return cases.map((item) => {
    const values = samples.get(item.name) ?? [];
    return {
      name: item.name,
      medianMs: median(values),
      p90Ms: percentile(values, 90),
      meanMs: values.reduce((sum, value) => sum + value, 0) / values.length,
    };
  });
}

/** hyperfine's measurement of the same commands, or null when it is not installed. */
function hyperfine(
  cases: readonly Case[],
  env: NodeJS.ProcessEnv,
  directory: string,
): Figures[] | null {
  if (spawnSync('hyperfine', ['--version'], { stdio: 'ignore' }).status !== 0) return null;
  const exported = join(directory, 'hyperfine.json');
  const args = ['-N', '--warmup', String(WARMUP_ROUNDS), '--runs', String(ROUNDS)];
  args.push('--export-json', exported, '--style', 'none');
  for (const item of cases) {
    args.push('-n', item.name, [process.execPath, ...item.argv].join(' '));
  }
  const result = spawnSync('hyperfine', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (result.status !== 0) throw new Error(`hyperfine failed: ${result.stderr.toString()}`);
  const report = JSON.parse(readFileSync(exported, 'utf8')) as {
    results: Array<{ command: string; mean: number; median: number; times: number[] }>;
  };
  return report.results.map((entry) => ({
    name: entry.command,
    medianMs: entry.median * 1_000,
    p90Ms: percentile(entry.times, 90) * 1_000,
    meanMs: entry.mean * 1_000,
  }));
}

function printTable(
  title: string,
  figures: readonly Figures[],
  cases: readonly Case[],
): Array<Record<string, unknown>> {
  const baseline = figures[0] as Figures;
  console.log(`\n${title}`);
  console.log(
    `${'case'.padEnd(34)} ${'median'.padStart(9)} ${'p90'.padStart(9)} ${'mean'.padStart(9)}  ratio (median, mean)`,
  );
  const rows: Array<Record<string, unknown>> = [];
  for (const item of figures) {
    const ratioMedian = item.medianMs / baseline.medianMs;
    const ratioMean = item.meanMs / baseline.meanMs;
    const isBaseline = item === baseline;
    const compared = cases.find((c) => c.name === item.name)?.comparison === true;
    const verdict =
      isBaseline || compared ? '' : ratioMedian <= TARGET_RATIO ? '  met' : '  MISSED';
    console.log(
      `${item.name.padEnd(34)} ${item.medianMs.toFixed(1).padStart(7)}ms ${item.p90Ms.toFixed(1).padStart(7)}ms ${item.meanMs.toFixed(1).padStart(7)}ms  ${isBaseline ? 'baseline' : `${ratioMedian.toFixed(2)}, ${ratioMean.toFixed(2)}${verdict}`}`,
    );
    rows.push({ ...item, ratioMedian, ratioMean });
  }
  return rows;
}

async function main(): Promise<void> {
  if (!existsSync(GOVERNOR)) {
    throw new Error(`${GOVERNOR} does not exist: run npm run build first`);
  }
  const directory = mkdtempSync(join(tmpdir(), 'gov-bench-cli-'));
  const configPath = join(directory, 'governor.json');
  writeFileSync(configPath, '{}');
  // The documented install's config is YAML (/etc/governor/governor.yaml): its parser's cost.
  const yamlConfigPath = join(directory, 'governor.yaml');
  writeFileSync(yamlConfigPath, '# as docs/operations.md installs it\nlogLevel: info\n');
  const env = commandEnv(configPath);
  const liveDb = join(directory, 'live.db');
  const recordedDb = join(directory, 'recorded.db');
  // A database nobody runs: written by a daemon that then stopped.
  await stopDaemon(await startDaemon(recordedDb, env));
  const daemon = await startDaemon(liveDb, env);
  try {
    const cases: Case[] = [
      { name: 'node -e 0', argv: ['-e', '0'], baseline: true },
      { name: 'governor --help', argv: [GOVERNOR, '--help'] },
      { name: 'governor status (daemon answers)', argv: [GOVERNOR, 'status', '--db', liveDb] },
      {
        name: 'governor status (nobody runs)',
        argv: [GOVERNOR, 'status', '--db', recordedDb],
      },
      {
        name: 'status (nobody runs, YAML config)',
        argv: [GOVERNOR, 'status', '--config', yamlConfigPath, '--db', recordedDb],
      },
      {
        name: 'status, bundle without code cache',
        argv: [COMMAND_BUNDLE, 'status', '--db', recordedDb],
        comparison: true,
      },
    ];
    console.log(
      `governor CLI start-up: ${ROUNDS} runs per case, node ${process.version}, load average ${(
        await import('node:os')
      )
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const own = printTable(
      'alternating rounds (this script)',
      alternatingRounds(cases, env),
      cases,
    );
    const fine = hyperfine(cases, env, directory);
    if (fine === null)
      console.log('\nhyperfine is not installed (apt-get install hyperfine): skipped');
    const byHyperfine = fine === null ? null : printTable('hyperfine -N', fine, cases);
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    writeFileSync(
      join(ROOT, 'test-artifacts', 'bench-cli.json'),
      `${JSON.stringify({ rounds: ROUNDS, targetRatio: TARGET_RATIO, alternating: own, hyperfine: byHyperfine }, null, 2)}\n`,
    );
  } finally {
    await stopDaemon(daemon);
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
