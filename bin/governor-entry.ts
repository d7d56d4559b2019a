#!/usr/bin/env node
/**
 * The installed `governor` command's entry, dist/bin/governor.js: it runs the bundled command
 * (dist/bin/governor-command.js, bin/governor.ts and what it imports) compiled from the V8 code
 * cache the build made beside it, or from its source when that cache is missing, stale or corrupt.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommandBundle } from './code-cache.js';

runCommandBundle(dirname(fileURLToPath(import.meta.url)));
