#!/usr/bin/env node
/**
 * The `governor` command: what an operator types. Everything lives in services/cli/; this file
 * only runs it and sets the exit code (docs/operations.md lists the codes). The build bundles it
 * into one CommonJS file (bin/build-if-stale.mjs), hence no top-level await.
 */
import { main } from '../services/cli/main.js';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
