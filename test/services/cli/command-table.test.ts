/**
 * Goal: every command documents itself from one table (services/cli/commands.ts): per-command
 * help with each flag's description, examples and exit codes; `governor --version`; shell
 * completion that offers exactly the commands, subcommands, flags and values the parser accepts;
 * and each command's code is loaded only when it runs (the table holds loaders, not modules).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  COMMAND_TABLE,
  COMMANDS,
  EXIT_MEANINGS,
  EXIT_SUMMARY,
  flagsOf,
} from '../../../services/cli/commands.js';
import { bashScript, fishScript, zshScript } from '../../../services/cli/completion.js';
import { EXIT } from '../../../services/cli/exit-codes.js';
import { commandHelp } from '../../../services/cli/help.js';
import { createOutput } from '../../../services/cli/output.js';
import { runCliInProcess } from '../../support/cli-in-process.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

function captureHelp(name: string): string {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  }) as unknown as NodeJS.WriteStream;
  const out = createOutput({ stdout: stream, stderr: stream, env: {} });
  const spec = COMMANDS.find((command) => command.name === name);
  if (spec === undefined) throw new Error(`no command ${name}`);
  commandHelp(out, spec);
  return chunks.join('');
}

const run = (argv: string[]) => runCliInProcess(argv);

afterEach(() => vi.restoreAllMocks());

describe('the command table', () => {
  it('describes every command, flag and exit code', () => {
    for (const command of COMMANDS) {
      expect(command.usage.startsWith(command.name)).toBe(true);
      expect(command.description.length).toBeGreaterThan(20);
      expect(command.examples.length).toBeGreaterThan(0);
      for (const example of command.examples) expect(example).toContain(`governor ${command.name}`);
      for (const [name, flag] of Object.entries(flagsOf(command))) {
        expect(flag.description.length, `${command.name} --${name}`).toBeGreaterThan(5);
      }
      for (const code of command.exits) expect(EXIT_MEANINGS[code]).toBeDefined();
    }
    for (const code of Object.values(EXIT)) expect(EXIT_SUMMARY).toMatch(new RegExp(`\\b${code} `));
  });

  it('help shows each flag with its description, the examples and the exit codes', () => {
    for (const command of COMMANDS) {
      const help = captureHelp(command.name);
      expect(help).toMatch(new RegExp(`^usage: governor ${command.name}`));
      for (const [name, flag] of Object.entries(flagsOf(command))) {
        expect(help).toContain(`--${name}`);
        expect(help).toContain(flag.description);
      }
      for (const example of command.examples) expect(help).toContain(example);
      for (const code of command.exits) expect(help).toContain(`  ${code}  ${EXIT_MEANINGS[code]}`);
    }
  });

  it('governor help NAME, NAME --help and the subcommands answer; unknown ones are usage errors', async () => {
    const help = await run(['help', 'restart']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--force');
    const flag = await run(['capital', 'adjust', '--help']);
    expect(flag.code).toBe(0);
    expect(flag.stdout).toMatch(/^usage: governor capital adjust --pool ID/);
    const group = await run(['capital']);
    expect(group.code).toBe(1);
    expect(group.stderr).toContain('capital takes a subcommand: capital adjust');
    const unknown = await run(['restrat']);
    expect(unknown.code).toBe(1);
    const bad = await run(['restart', '--froce']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('governor help restart');
  });

  it('governor --version prints the package version', async () => {
    const manifest = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V', 'version']) {
      const result = await run([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`governor ${manifest.version}\n`);
    }
  });
});

describe('shell completion', () => {
  it('offers every command, subcommand, flag and flag value', () => {
    const bash = bashScript(COMMAND_TABLE);
    const fish = fishScript(COMMAND_TABLE);
    for (const command of COMMANDS) {
      const [word, sub] = command.name.split(' ') as [string, string | undefined];
      expect(bash).toContain(word);
      if (sub !== undefined) expect(bash).toContain(sub);
      expect(bash).toContain(`"${command.name}") flags="`);
      for (const [name, flag] of Object.entries(flagsOf(command))) {
        expect(bash).toContain(`--${name}`);
        expect(fish).toContain(`-l ${name}`);
        for (const choice of flag.choices ?? []) expect(bash).toContain(choice);
      }
    }
    expect(zshScript(COMMAND_TABLE)).toContain('bashcompinit');
    expect(zshScript(COMMAND_TABLE)).toContain(bash);
  });
});
