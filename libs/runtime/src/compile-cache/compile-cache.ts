import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';

// V8's code cache for the CommonJS files a service loads (Node 22's module.enableCompileCache,
// which Node 20 lacks). A start spends about a quarter of its module loading compiling ~2,000
// files; with the bytecode V8 serialized after the previous start, it only deserializes.
//
// One file per entry point, Node version and flag set holds every module's cache. It is
// rewritten (temp file and rename) once the process has compiled something new and loading has
// gone quiet, or at exit, so it carries the functions boot ran, not just the top levels. An
// entry is used only when its source's CRC-32 matches (V8's own check is the source length) and
// its bytes match their own; V8 still refuses data from another V8 or flag set, and such a
// module is compiled as usual. Anything that is not plain CommonJS (ES modules, files Node must
// detect), and the few files with a dynamic import(), go to Node's own compiler.

interface CacheEntry {
  // CRC-32 of the module's source, and of the cached bytes.
  crc: number;
  dataCrc: number;
  length: number;
  // Where the bytes are: at an offset of the cache's file, or in memory (compiled by this process).
  offset?: number;
  data?: Buffer;
}

type CacheIndex = Map<string, CacheEntry>;

interface CacheFile {
  fd?: number;
  entries: CacheIndex;
}

interface NodeModule {
  exports: unknown;
  require(id: string): unknown;
}

interface ModuleStatics {
  prototype: { _compile(this: NodeModule, content: string, filename: string, format?: string): unknown };
  wrap(content: string): string;
  _resolveFilename(request: string, parent: NodeModule, isMain: boolean, options?: unknown): string;
  _resolveLookupPaths(request: string, parent: NodeModule): string[] | null;
  _extensions: unknown;
  _cache: unknown;
}

export interface CompileCacheStats {
  file: string;
  hits: number;
  misses: number;
  rejected: number;
  written: number;
}

export interface CompileCacheOptions {
  dir: string;
  // Quiet time after the last compiled module before the cache is written and let go.
  quietMs?: number;
}

const MAGIC = 0x4f534343; // "OSCC"
const HEADER_BYTES = 12; // magic, index length, CRC-32 of the index
const DYNAMIC_IMPORT = /\bimport\s*\(/;

let installed: { stats: CompileCacheStats; flush(): void } | undefined;
let refused: string | undefined;

export function compileCacheStats(): CompileCacheStats | undefined {
  return installed ? { ...installed.stats } : undefined;
}

// Why the cache is not in use, when it was asked for and refused.
export function compileCacheRefusal(): string | undefined {
  return refused;
}

// What a service's ready line says of it: modules served and compiled, or why it is not in use.
export function compileCacheReport(): { hits: number; misses: number; rejected: number } | string {
  if (!installed) return refused ?? 'off';
  const { hits, misses, rejected } = installed.stats;
  return { hits, misses, rejected };
}

// Writes what is pending now (a service does it on its own once loading is quiet).
export function flushCompileCache(): void {
  installed?.flush();
}

export function installCompileCache(options: CompileCacheOptions): CompileCacheStats | undefined {
  if (installed) return installed.stats;
  // The debugger's pause-on-start needs Node's own compile path.
  if (process.execArgv.some((a) => a.startsWith('--inspect'))) return undefined;
  // The cache is code this process will run: only from a directory no other user can write.
  refused = privateDirectoryProblem(options.dir);
  if (refused) return undefined;
  const NodeModule = Module as unknown as ModuleStatics;
  const file = join(options.dir, `${cacheKey()}.bin`);
  const quietMs = options.quietMs ?? 3000;
  const stats: CompileCacheStats = { file, hits: 0, misses: 0, rejected: 0, written: 0 };
  // Opened at start; closed once loading is quiet (a module loaded later opens it again).
  let cache: CacheFile | undefined = openCache(file);
  const fresh = new Map<string, { crc: number; script: Script }>();
  let lastCompileAt = 0;
  let timer: NodeJS.Timeout | undefined;

  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    closeCache(cache);
    cache = undefined;
    if (fresh.size === 0) return;
    // What is on disk now (another process may have written since) plus what this one compiled.
    const merged = openCache(file);
    for (const [filename, { crc, script }] of fresh) {
      const data = script.createCachedData();
      merged.entries.set(filename, { crc, dataCrc: crc32(data), length: data.length, data });
    }
    fresh.clear();
    // Modules of an older build that are gone from disk leave the cache.
    for (const filename of merged.entries.keys()) if (!existsSync(filename)) merged.entries.delete(filename);
    try {
      writeCache(file, merged);
      stats.written += 1;
    } catch {
      // An unwritable directory: the next start compiles as this one did.
    } finally {
      closeCache(merged);
    }
  };
  const whenQuiet = (): void => {
    const wait = lastCompileAt + quietMs - performance.now();
    timer = wait > 0 ? setTimeout(whenQuiet, wait).unref() : undefined;
    if (wait <= 0) flush();
  };

  const originalCompile = NodeModule.prototype._compile;
  NodeModule.prototype._compile = function compileWithCache(this: NodeModule, content: string, filename: string, format?: string): unknown {
    if (format !== undefined && format !== 'commonjs') return originalCompile.call(this, content, filename, format);
    // Node 20 loses a script's dynamic-import callback when V8 builds it from cached data.
    if (content.includes('import') && DYNAMIC_IMPORT.test(content)) return originalCompile.call(this, content, filename, format);
    cache ??= openCache(file);
    const crc = crc32(content);
    const entry = cache.entries.get(filename);
    const cachedData = entry?.crc === crc ? entryBytes(cache, entry) : undefined;
    let script: Script;
    try {
      script = new Script(NodeModule.wrap(content), { filename, cachedData });
    } catch {
      // Not a CommonJS script (ES module syntax Node may detect), or a real syntax error: Node's
      // own compiler decides, and reports it as it would without the cache.
      return originalCompile.call(this, content, filename, format);
    }
    if (cachedData && !script.cachedDataRejected) {
      stats.hits += 1;
    } else {
      if (cachedData) stats.rejected += 1;
      stats.misses += 1;
      fresh.set(filename, { crc, script });
    }
    lastCompileAt = performance.now();
    timer ??= setTimeout(whenQuiet, quietMs).unref();
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return wrapper.call(this.exports, this.exports, requireFor(NodeModule, this), this, filename, dirname(filename));
  };
  // A short-lived process (the CLI) exits before loading goes quiet; a service may have loaded
  // more since.
  process.once('exit', flush);
  installed = { stats, flush };
  return stats;
}

// The `require` Node hands a module: resolving relative to it, with its statics.
function requireFor(NodeModule: ModuleStatics, mod: NodeModule): NodeJS.Require {
  const require = ((id: string) => mod.require(id)) as NodeJS.Require;
  const resolve = ((request: string, options?: unknown) => NodeModule._resolveFilename(request, mod, false, options)) as NodeJS.RequireResolve;
  resolve.paths = (request: string) => NodeModule._resolveLookupPaths(request, mod);
  require.resolve = resolve;
  require.main = process.mainModule;
  require.extensions = NodeModule._extensions as NodeJS.RequireExtensions;
  require.cache = NodeModule._cache as NodeJS.Dict<NodeJS.Module>;
  return require;
}

// V8 refuses data made under other flags, so processes started differently keep separate files
// rather than overwrite each other's (the profiler's flags change nothing V8 checks).
function cacheKey(): string {
  const flags = process.execArgv.filter((a) => !a.startsWith('--cpu-prof')).join(' ');
  return createHash('sha256')
    .update(`${process.argv[1] ?? ''}\n${process.version}\n${process.arch}\n${flags}\n${process.env.NODE_OPTIONS ?? ''}`)
    .digest('hex')
    .slice(0, 32);
}

// The file: magic, index length, CRC-32 of the index; the index as JSON [filename, crc, length,
// dataCrc]; then every entry's bytes in index order. Anything unreadable is an empty cache.
//
// Only the index is read at start; each entry when its module compiles, into one reused buffer,
// so no copy of the whole file outlives boot.
function openCache(file: string): CacheFile {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return { entries: new Map() };
  }
  const entries: CacheIndex = new Map();
  try {
    const stat = fstatSync(fd);
    if (!ownedAndPrivate(stat)) throw new Error('not ours');
    const size = stat.size;
    const header = Buffer.alloc(HEADER_BYTES);
    if (readSync(fd, header, 0, HEADER_BYTES, 0) !== HEADER_BYTES || header.readUInt32LE(0) !== MAGIC) throw new Error('not a cache');
    const indexBytes = header.readUInt32LE(4);
    if (HEADER_BYTES + indexBytes > size) throw new Error('truncated');
    const indexBuf = Buffer.alloc(indexBytes);
    if (readSync(fd, indexBuf, 0, indexBytes, HEADER_BYTES) !== indexBytes || crc32(indexBuf) !== header.readUInt32LE(8)) throw new Error('damaged');
    let offset = HEADER_BYTES + indexBytes;
    for (const [filename, crc, length, dataCrc] of JSON.parse(indexBuf.toString('utf8')) as [string, number, number, number][]) {
      if (offset + length > size) throw new Error('truncated');
      entries.set(filename, { crc, dataCrc, length, offset });
      offset += length;
    }
    return { fd, entries };
  } catch {
    closeSync(fd);
    return { entries: new Map() };
  }
}

// Created 0700 when missing; an existing one must belong to this user and be writable by no one
// else, or anyone who could write it could choose the bytecode a service runs.
function privateDirectoryProblem(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = statSync(dir);
    if (!stat.isDirectory()) return `${dir} is not a directory`;
    if (!ownedAndPrivate(stat)) return `${dir} belongs to another user or others can write it`;
    return undefined;
  } catch (err) {
    return `${dir}: ${(err as Error).message}`;
  }
}

function ownedAndPrivate(stat: Stats): boolean {
  return (process.getuid === undefined || stat.uid === process.getuid()) && (stat.mode & 0o022) === 0;
}

function closeCache(cache: CacheFile | undefined): void {
  if (cache?.fd !== undefined) closeSync(cache.fd);
}

// One buffer the entries are read into in turn: V8 consumes cached data while the Script is
// constructed, so it is free again before the next module, and boot leaves no heap of small
// native allocations behind.
let scratch = Buffer.allocUnsafeSlow(256 * 1024);

// An entry's bytes, or undefined when they are not what was written (a damaged file). Bytes read
// from the file are valid until the next call.
function entryBytes(cache: CacheFile, entry: CacheEntry): Buffer | undefined {
  if (entry.data) return entry.data;
  if (cache.fd === undefined || entry.offset === undefined) return undefined;
  try {
    if (scratch.length < entry.length) scratch = Buffer.allocUnsafeSlow(entry.length * 2);
    const data = scratch.subarray(0, entry.length);
    if (readSync(cache.fd, data, 0, entry.length, entry.offset) !== entry.length || crc32(data) !== entry.dataCrc) return undefined;
    return data;
  } catch {
    return undefined;
  }
}

function writeCache(file: string, cache: CacheFile): void {
  const kept: [string, CacheEntry, Buffer][] = [];
  for (const [filename, entry] of cache.entries) {
    const data = entryBytes(cache, entry);
    if (data) kept.push([filename, entry, entry.data ?? Buffer.from(data)]);
  }
  const index = Buffer.from(JSON.stringify(kept.map(([filename, e, data]) => [filename, e.crc, data.length, e.dataCrc])), 'utf8');
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(index.length, 4);
  header.writeUInt32LE(crc32(index), 8);
  // Another process of the same service may write at the same moment: each renames its own file.
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, Buffer.concat([header, index, ...kept.map(([, , data]) => data)]), { mode: 0o600 });
  renameSync(temp, file);
}
