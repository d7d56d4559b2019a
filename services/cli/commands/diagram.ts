/**
 * `governor diagram`: prints the lifecycle statechart as Mermaid, generated from the machine
 * definition itself (the same text as visualizations/governor.mmd, so it is never stale).
 */
import { governorMachine } from '../../../machines/index.js';
import { diagramOf, toMermaid } from '../../../visualizations/governor-diagram.js';
import type { CommandContext } from '../context.js';
import { EXIT, type ExitCode } from '../exit-codes.js';

export async function diagramCommand(context: CommandContext): Promise<ExitCode> {
  const mermaid = toMermaid(diagramOf(governorMachine));
  if (context.json) context.out.json({ format: 'mermaid', diagram: mermaid });
  else context.out.line(mermaid.trimEnd());
  return EXIT.OK;
}
