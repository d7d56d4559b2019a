/**
 * The V8 code cache of the bundled `governor` command (dist/bin/governor-command.js): the file
 * it is kept in, how the command's entry reads it, and how the build writes it. V8 deserialises
 * a cache without checking its bytes (a corrupt one crashes the process) and matches it to the
 * source by length only, so the file carries a CRC-32 of the source it was made from and one of
 * its own bytes; a cache that fails either, or that V8 rejects (another Node or V8 flags), is
 * left unused and the command is compiled from its source as without a cache.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { constants, Script } from 'node:vm';
import * as zlib from 'node:zlib';

/** The bundle's file name, in dist/bin/ beside the command's entry. */
export const COMMAND_BUNDLE_FILE = 'governor-command.js';
/** The cache's file name, beside the bundle. */
export const CODE_CACHE_FILE = 'governor-command.code-cache';

/** "govcc" and the format's version, then the source's CRC-32, the cache's CRC-32 and length. */
const MAGIC = Buffer.from('govcc\u00001\n', 'latin1');
const HEADER_BYTES = MAGIC.length + 12;

/**
 * Node's own CommonJS wrapper around a module's source: the bundle sees `exports`, `require`,
 * `module`, `__filename` and `__dirname` as when Node loads it with `require`.
 */
const WRAPPER_START = '(function (exports, require, module, __filename, __dirname) { ';
const WRAPPER_END = '\n});';

/** zlib's CRC-32 (Node 20.15 and later), or null: without it no cache is read or written. */
function crc32Function(): ((data: Uint8Array) => number) | null {
  const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  return typeof crc32 === 'function' ? crc32 : null;
}

function crc32Of(bytes: Uint8Array): number | null {
  return crc32Function()?.(bytes) ?? null;
}

/** The V8 data in `file` if it was made from `source` and is intact, else null. */
function verifiedCache(file: Buffer, source: Buffer): Buffer | null {
  if (file.length < HEADER_BYTES || !file.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const sourceCrc = file.readUInt32LE(MAGIC.length);
  const dataCrc = file.readUInt32LE(MAGIC.length + 4);
  const dataLength = file.readUInt32LE(MAGIC.length + 8);
  const data = file.subarray(HEADER_BYTES);
  if (data.length !== dataLength || crc32Of(data) !== dataCrc) return null;
  return crc32Of(source) === sourceCrc ? data : null;
}

/** The cache file's bytes for V8's `data`, made from `source`. */
function cacheFileBytes(source: Buffer, data: Buffer): Buffer {
  const sourceCrc = crc32Of(source);
  const dataCrc = crc32Of(data);
  if (sourceCrc === null || dataCrc === null) {
    throw new Error('this Node has no zlib.crc32 (20.15 or later): no code cache can be made');
  }
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header);
  header.writeUInt32LE(sourceCrc, MAGIC.length);
  header.writeUInt32LE(dataCrc, MAGIC.length + 4);
  header.writeUInt32LE(data.length, MAGIC.length + 8);
  return Buffer.concat([header, data]);
}

interface CompiledBundle {
  readonly script: Script;
  /** Runs the bundle as Node runs the CommonJS module `bundlePath` it requires. */
  readonly run: () => void;
}

/**
 * The bundle compiled, with its cache when `cacheBytes` is one made from this source (V8 then
 * sets `script.cachedDataRejected`: true when it compiled the source after all).
 */
function compileBundle(
  bundlePath: string,
  cacheBytes: Buffer | null,
  importModuleDynamically: typeof constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
): CompiledBundle {
  const sourceBytes = readFileSync(bundlePath);
  const cachedData = cacheBytes === null ? null : verifiedCache(cacheBytes, sourceBytes);
  const script = new Script(`${WRAPPER_START}${sourceBytes.toString('utf8')}${WRAPPER_END}`, {
    filename: bundlePath,
    importModuleDynamically,
    ...(cachedData === null ? {} : { cachedData }),
  });
  return {
    script,
    run: () => {
      // What Node's loader sets up for a file it requires (module, require, the module cache).
      const bundleModule = new Module(bundlePath);
      bundleModule.filename = bundlePath;
      const requireFromBundle = createRequire(bundlePath);
      requireFromBundle.cache[bundlePath] = bundleModule;
      const wrapper = script.runInThisContext() as (
        exports: unknown,
        require: NodeJS.Require,
        module: Module,
        filename: string,
        directory: string,
      ) => void;
      const { exports } = bundleModule;
      wrapper.call(
        exports,
        exports,
        requireFromBundle,
        bundleModule,
        bundlePath,
        dirname(bundlePath),
      );
      bundleModule.loaded = true;
    },
  };
}

/** The cache file's bytes, or null when there is none or it cannot be read. */
function readCacheFile(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}

/**
 * The commands (the first argument) started from the code cache: every short command that
 * imports no ES module. `run` and `venues` import ccxt (`import()`), which code compiled by
 * `vm.Script` can do only through Node's experimental `USE_MAIN_CONTEXT_DEFAULT_LOADER`, with a
 * warning on stderr: they, and anything not listed, are required by Node's own loader. So is
 * `shutdown`, the kill: its fallback imports ccxt, and the kill must not lean on an experimental
 * loader to save a few milliseconds.
 */
const CACHED_COMMANDS: ReadonlySet<string> = new Set([
  'status',
  'verify',
  'alerts',
  'ack',
  'events',
  'diagram',
  'observe',
  'resume',
  'restart',
  'capital',
  'fleet',
  'config',
  'completion',
  'help',
  '--help',
  '--version',
]);

/**
 * Runs the bundle in `directory` as Node would `require` it, for a listed command compiled with
 * its code cache when that is valid. With source maps on (`--enable-source-maps`) it is simply
 * required: Node maps the stack traces only of files its own loader compiled.
 */
export function runCommandBundle(directory: string): void {
  const bundlePath = join(directory, COMMAND_BUNDLE_FILE);
  const sourceMaps =
    process.sourceMapsEnabled === true || process.execArgv.includes('--enable-source-maps');
  const importModuleDynamically = importThroughMainLoader();
  if (
    sourceMaps ||
    importModuleDynamically === null ||
    crc32Function() === null ||
    !CACHED_COMMANDS.has(process.argv[2] ?? '')
  ) {
    createRequire(bundlePath)(`./${basename(bundlePath)}`);
    return;
  }
  const cacheBytes = readCacheFile(join(directory, CODE_CACHE_FILE));
  compileBundle(bundlePath, cacheBytes, importModuleDynamically).run();
}

/**
 * How the bundle's `import()` resolves, should a listed command ever reach one: as Node's own
 * loader would, with an experimental warning (Node 20.12 and later), or null on an older Node.
 */
function importThroughMainLoader(): typeof constants.USE_MAIN_CONTEXT_DEFAULT_LOADER | null {
  const vmConstants = constants as Partial<typeof constants> | undefined;
  return vmConstants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ?? null;
}

/**
 * The build's step: runs the bundle in `directory` with `argv` (a command that reads, as an
 * operator would, so the functions a start compiles are in the cache), then, at exit, writes its
 * code cache beside it (to a temporary name, then renamed: a reader sees no half-written file).
 */
export function produceCodeCache(directory: string, argv: readonly string[]): void {
  const bundlePath = join(directory, COMMAND_BUNDLE_FILE);
  const importModuleDynamically = importThroughMainLoader();
  if (importModuleDynamically === null) throw new Error('this Node has no vm.constants');
  const compiled = compileBundle(bundlePath, null, importModuleDynamically);
  process.on('exit', () => {
    const cachePath = join(directory, CODE_CACHE_FILE);
    const bytes = cacheFileBytes(readFileSync(bundlePath), compiled.script.createCachedData());
    writeFileSync(`${cachePath}.tmp`, bytes);
    renameSync(`${cachePath}.tmp`, cachePath);
  });
  process.argv.splice(2, process.argv.length - 2, ...argv);
  compiled.run();
}
