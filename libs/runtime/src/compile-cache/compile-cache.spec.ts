import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The cache replaces how Node compiles every CommonJS file, so it is exercised where that happens:
// plain Node children (Jest runs modules in its own VM) loading this file compiled by swc, each
// start reading what the previous one wrote.
const { transformSync } = require('@swc/core') as typeof import('@swc/core');

const FIXTURES: Record<string, string> = {
  'entry.js': `
const { installCompileCache, flushCompileCache, compileCacheStats, compileCacheRefusal } = require('./compile-cache.js');
installCompileCache({ dir: process.env.CACHE_DIR, quietMs: 60_000 });
const a = require('./a.js');
(async () => {
  let stack = '';
  try { a.fail(); } catch (err) { stack = err.stack; }
  const out = { value: a.value(), three: a.three(), resolved: a.resolved, main: a.isMain, dynamic: await a.dynamic(), esm: require('./e.mjs').default, stack };
  flushCompileCache();
  process.stdout.write(JSON.stringify({ ...out, stats: compileCacheStats() ?? null, refused: compileCacheRefusal() ?? null }));
})();
`,
  'a.js': `exports.value = () => 'one';
exports.resolved = require.resolve('./b.js');
exports.fail = () => {
  throw new Error('thrown in a');
};
exports.isMain = require.main === module.parent;
exports.dynamic = require('./b.js').dynamic;
exports.three = require('./c.js').three;
`,
  'b.js': `exports.dynamic = () => import('./e.mjs').then((m) => m.default);\n`,
  'c.js': `exports.three = () => 3;\n`,
  'e.mjs': `export default 'esm';\n`,
};

interface ChildOutput {
  value: string;
  three: number;
  resolved: string;
  main: boolean;
  dynamic: string;
  esm: string;
  stack: string;
  stats: { hits: number; misses: number; rejected: number; written: number; file: string } | null;
  refused: string | null;
}

describe('the compile cache', () => {
  let dir: string;
  let cacheDir: string;
  const run = (): ChildOutput =>
    JSON.parse(execFileSync(process.execPath, [join(dir, 'entry.js')], { env: { ...process.env, CACHE_DIR: cacheDir }, encoding: 'utf8' })) as ChildOutput;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'compile-cache-'));
    cacheDir = join(dir, 'cache');
    const source = readFileSync(join(__dirname, 'compile-cache.ts'), 'utf8');
    const { code } = transformSync(source, {
      filename: 'compile-cache.ts',
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
    });
    writeFileSync(join(dir, 'compile-cache.js'), code);
    for (const [name, text] of Object.entries(FIXTURES)) writeFileSync(join(dir, name), text);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('compiles on the first start and writes; the next start takes every module from the cache and behaves the same', () => {
    const first = run();
    expect(first.stats).toMatchObject({ hits: 0, misses: 2, rejected: 0, written: 1 });
    expect(readdirSync(cacheDir)).toEqual([expect.stringMatching(/^[0-9a-f]{32}\.bin$/)]);
    const second = run();
    expect(second.stats).toMatchObject({ hits: 2, misses: 0, written: 0 });
    const { stats: _s1, ...firstBehaviour } = first;
    const { stats: _s2, ...secondBehaviour } = second;
    expect(secondBehaviour).toEqual(firstBehaviour);
    // require, require.resolve and require.main as Node gives them; dynamic import (its module
    // left to Node) and ES modules still load; errors keep their file and line.
    expect(second).toMatchObject({ value: 'one', three: 3, resolved: join(dir, 'b.js'), main: true, dynamic: 'esm', esm: 'esm' });
    expect(second.stack).toContain(`${join(dir, 'a.js')}:4:`);
  });

  it('recompiles a module whose source changed, even to one of the same length, and keeps the rest', () => {
    run();
    const a = readFileSync(join(dir, 'a.js'), 'utf8');
    writeFileSync(join(dir, 'a.js'), a.replace("'one'", "'two'"));
    const changed = run();
    expect(changed.value).toBe('two');
    expect(changed.stats).toMatchObject({ hits: 1, misses: 1, written: 1 });
    expect(run().stats).toMatchObject({ hits: 2, misses: 0 });
  });

  it('starts without the cache when its file is damaged, and writes a good one', () => {
    run();
    const [file] = readdirSync(cacheDir);
    const path = join(cacheDir, file!);
    const bytes = readFileSync(path);
    // A damaged entry (the last one's bytes): that module compiles, the other comes from the cache.
    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 10] ^= 0xff;
    writeFileSync(path, damaged);
    expect(run()).toMatchObject({ value: 'one', stats: { hits: 1, misses: 1, written: 1 } });
    // A damaged index, then a cut-short file: no entry is trusted.
    const badIndex = Buffer.from(bytes);
    badIndex[20] ^= 0xff;
    writeFileSync(path, badIndex);
    expect(run()).toMatchObject({ value: 'one', stats: { hits: 0, misses: 2, written: 1 } });
    writeFileSync(path, bytes.subarray(0, 20));
    expect(run()).toMatchObject({ value: 'one', stats: { hits: 0, misses: 2, written: 1 } });
    expect(run().stats).toMatchObject({ hits: 2, misses: 0 });
  });

  it('is refused in a directory others can write, and ignores a cache file others can write', () => {
    mkdirSync(cacheDir, { mode: 0o700 });
    chmodSync(cacheDir, 0o777);
    expect(run()).toMatchObject({ value: 'one', stats: null, refused: expect.stringContaining('others can write it') });
    expect(readdirSync(cacheDir)).toEqual([]);
    chmodSync(cacheDir, 0o700);
    run();
    const [file] = readdirSync(cacheDir);
    expect(statSync(join(cacheDir, file!)).mode & 0o777).toBe(0o600);
    chmodSync(join(cacheDir, file!), 0o666);
    // Its bytecode is not run; the file is replaced by one of this user's own.
    expect(run().stats).toMatchObject({ hits: 0, misses: 2, written: 1 });
    expect(run().stats).toMatchObject({ hits: 2, misses: 0 });
  });

  it('leaves a syntax error to Node, which reports it as it would without the cache', () => {
    writeFileSync(join(dir, 'a.js'), 'exports.value = () => {;\n');
    let message = '';
    try {
      run();
    } catch (err) {
      message = String((err as { stderr?: string }).stderr);
    }
    expect(message).toContain(join(dir, 'a.js'));
    expect(message).toContain('SyntaxError');
  });
});
