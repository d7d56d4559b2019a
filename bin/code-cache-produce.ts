/**
 * The build's maker of the command's code cache (bin/build-if-stale.mjs runs it in a child of
 * its own): `node FILE DIRECTORY ARGS...` runs the bundle in DIRECTORY with ARGS, then writes
 * the cache of what it compiled beside the bundle.
 */
import { produceCodeCache } from './code-cache.js';

const [directory, ...argv] = process.argv.slice(2);
if (directory === undefined) throw new Error('usage: code-cache-produce DIRECTORY ARGS...');
produceCodeCache(directory, argv);
