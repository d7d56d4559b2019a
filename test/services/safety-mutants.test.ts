/**
 * Proves the unit tests of safety rules in the services bite: in a copy of the tree, each mutant
 * loosens one rule in the source (one exact text replaced), and the unit test files that hold
 * the rule must then fail. The statechart's own mutants are in test/machines/mutants.test.ts.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = process.cwd();
/** What a unit run needs: the sources, the tests and the configuration. */
const COPIED = [
  'services',
  'persistence',
  'machines',
  'test',
  'examples',
  'index.ts',
  'testing.ts',
  'package.json',
  'tsconfig.json',
  'vitest.config.ts',
];

interface SourceMutant {
  readonly name: string;
  readonly file: string;
  readonly from: string;
  readonly to: string;
  /** The unit test files that must fail with the mutant in place. */
  readonly tests: readonly string[];
}

const MUTANTS: readonly SourceMutant[] = [
  {
    name: "the engine port's refusal of governor's reserved event types removed",
    file: 'services/governor/engine-port.ts',
    from: '  if (isGovernorEventType(input.eventType)) {',
    to: '  if (isGovernorEventType(input.eventType) && false) {',
    tests: ['test/services/governor/engine-port-input.test.ts'],
  },
  {
    name: 'the engine port storing the caller’s event instead of the copy it checked',
    file: 'services/governor/engine-port.ts',
    from: '  return input;\n}',
    to: '  return value as EventInput;\n}',
    tests: [
      'test/services/governor/engine-port-input.test.ts',
      'test/services/governor/two-faced-inputs.property.test.ts',
    ],
  },
  {
    name: 'an adapter ping passing on anything but false',
    file: 'services/health/startup-checks.ts',
    from: '      return answer === true',
    to: '      return answer !== false',
    tests: ['test/services/health/adapter-ping.test.ts'],
  },
  {
    name: 'the latch on an uncaught exception made opt-in',
    file: 'services/governor/process-errors.ts',
    from: '  if (options.latchUncaughtExceptions !== false) {',
    to: '  if (options.latchUncaughtExceptions === true) {',
    tests: ['test/services/governor/process-errors.test.ts'],
  },
];

let copy: string;

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'governor-mutants-'));
  for (const entry of COPIED) cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(copy, 'node_modules'));
});

afterAll(() => {
  rmSync(copy, { recursive: true, force: true });
});

function runUnit(tests: readonly string[]): { status: number | null; output: string } {
  const vitest = join(copy, 'node_modules', 'vitest', 'vitest.mjs');
  const run = spawnSync(
    process.execPath,
    [vitest, 'run', '--project', 'unit', '--reporter', 'dot', ...tests],
    { cwd: copy, encoding: 'utf8', env: { ...process.env, CI: '' } },
  );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('the unit tests of safety rules catch mutant sources', () => {
  it('pass on the sources as they are (the copy runs)', () => {
    const result = runUnit(MUTANTS.flatMap((mutant) => mutant.tests));
    expect(result.status, result.output.slice(-4_000)).toBe(0);
  });

  for (const mutant of MUTANTS) {
    it(`catch ${mutant.name}`, () => {
      const path = join(copy, mutant.file);
      const original = readFileSync(path, 'utf8');
      // The mutant applies to exactly one place: a source that moved must move the mutant too.
      expect(original.split(mutant.from)).toHaveLength(2);
      writeFileSync(path, original.replace(mutant.from, mutant.to));
      try {
        for (const test of mutant.tests) {
          const result = runUnit([test]);
          console.log(`mutant "${mutant.name}": ${test} exit ${result.status}`);
          expect(result.status, `${test} passed with the mutant`).not.toBe(0);
          expect(result.output).toMatch(/\d+ failed/);
        }
      } finally {
        writeFileSync(path, original);
      }
    });
  }
});
