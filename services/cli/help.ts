/**
 * The help of one command, generated from its entry in commands.ts: usage, what it does, each
 * flag with its description, examples and exit codes.
 */
import { COMMON_FLAGS, type CommandSpec, EXIT_MEANINGS, type FlagSpec } from './commands.js';
import type { Output } from './output.js';

function flagLabel(name: string, flag: FlagSpec): string {
  const short = flag.short === undefined ? '' : `-${flag.short}, `;
  const value = flag.type === 'string' ? ` ${flag.value ?? 'VALUE'}` : '';
  return `${short}--${name}${value}`;
}

function flagRows(flags: Readonly<Record<string, FlagSpec>>): Array<[string, string]> {
  return Object.entries(flags).map(([name, flag]) => {
    const listed = flag.choices === undefined || flag.description.includes(flag.choices[0] ?? '');
    const choices = listed ? '' : ` (one of ${flag.choices?.join(', ')})`;
    return [flagLabel(name, flag), `${flag.description}${choices}`];
  });
}

function printRows(out: Output, rows: ReadonlyArray<[string, string]>, width: number): void {
  for (const [label, text] of rows) out.line(`  ${label.padEnd(width)}  ${text}`);
}

export function commandHelp(out: Output, command: CommandSpec): void {
  out.line(`usage: governor ${command.usage}`);
  out.line();
  out.line(command.description);
  const own = flagRows(command.flags);
  const common = flagRows(COMMON_FLAGS);
  const width = Math.max(...[...own, ...common].map(([label]) => label.length));
  if (own.length > 0) {
    out.line();
    out.line('flags:');
    printRows(out, own, width);
  }
  out.line();
  out.line('common flags:');
  printRows(out, common, width);
  out.line();
  out.line('examples:');
  for (const example of command.examples) out.line(`  ${example}`);
  out.line();
  out.line('exit codes:');
  for (const code of command.exits) out.line(`  ${code}  ${EXIT_MEANINGS[code]}`);
  out.line();
}
