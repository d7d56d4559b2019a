/**
 * Keeps the committed diagrams honest: they are regenerated in memory from the machine and
 * must equal visualizations/governor.{mmd,dot,svg} and the Mermaid block in the README.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { governorMachine } from '../../machines/index.js';
import { DIAGRAM_FILES, diagramOf, renderDiagrams } from '../../visualizations/governor-diagram.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const committed = (name: string) => readFileSync(join(root, 'visualizations', name), 'utf8');

describe('statechart diagrams', () => {
  it('are up to date with the machine (run `npm run visualize` when this fails)', async () => {
    // Goal: a change to the machine without regenerating the committed diagrams fails CI.
    const rendered = await renderDiagrams(governorMachine);
    expect(rendered.mermaid).toBe(committed(DIAGRAM_FILES.mermaid));
    expect(rendered.dot).toBe(committed(DIAGRAM_FILES.dot));
    expect(rendered.svg).toBe(committed(DIAGRAM_FILES.svg));
  });

  it('render deterministically', async () => {
    // Goal: regenerating twice gives identical bytes, so the staleness check is meaningful.
    const [first, second] = await Promise.all([
      renderDiagrams(governorMachine),
      renderDiagrams(governorMachine),
    ]);
    expect(second).toEqual(first);
  });

  it('label every transition with its event and guard, read from the machine', () => {
    // Goal: the diagram is the machine, not a drawing of it: every edge the table names is there.
    const diagram = diagramOf(governorMachine);
    const edges = diagram.transitions.map(
      (t) => `${t.from} -${t.event}${t.guard ? ` [${t.guard}]` : ''}-> ${t.to}`,
    );
    expect(edges).toContain('STARTING -always [latchRecorded]-> SHUTDOWN');
    expect(edges).toContain('STARTING -lifecycle.start-> CHECKING');
    expect(edges).toContain(
      'CHECKING -done startupChecks [reportPassedThisVisit and mayTrade]-> AGGRESSIVE',
    );
    expect(edges).toContain('CHECKING -done startupChecks [capitalInconsistent]-> SHUTDOWN');
    expect(edges).toContain('CHECKING -heartbeat.lost-> OBSERVE_ONLY');
    expect(edges).toContain('CHECKING -after startupChecksTimeout-> OBSERVE_ONLY');
    expect(edges).toContain('AGGRESSIVE -heartbeat.lost-> OBSERVE_ONLY');
    expect(edges).toContain('OBSERVE_ONLY -operator.resume-> CHECKING');
    expect(edges.filter((edge) => edge.startsWith('SHUTDOWN'))).toEqual([]);
    expect(diagram.states.find((state) => state.name === 'SHUTDOWN')?.final).toBe(true);
  });

  it('appear in the README: the SVG image and the same Mermaid text', () => {
    // Goal: the README shows the current diagram, not an older copy.
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('## The statechart');
    expect(readme).toContain('](visualizations/governor.svg)');
    const block = /```mermaid\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(committed(DIAGRAM_FILES.mermaid));
  });
});
