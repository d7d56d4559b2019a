/**
 * `npm run visualize`: regenerates visualizations/governor.{mmd,dot,svg} from the machine
 * definition. The files are committed; test/visualizations/visualizations.test.ts fails when stale.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { governorMachine } from '../machines/index.js';
import { DIAGRAM_FILES, renderDiagrams } from './governor-diagram.js';

const directory = dirname(fileURLToPath(import.meta.url));
const rendered = await renderDiagrams(governorMachine);
for (const kind of ['mermaid', 'dot', 'svg'] as const) {
  const path = join(directory, DIAGRAM_FILES[kind]);
  writeFileSync(path, rendered[kind]);
  console.log(`wrote ${path}`);
}
