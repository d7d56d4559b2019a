#!/usr/bin/env node
/**
 * The `governor` command: what an operator types. Everything lives in services/cli/; this file
 * only runs it and sets the exit code (docs/operations.md lists the codes).
 */
import { main } from '../services/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
