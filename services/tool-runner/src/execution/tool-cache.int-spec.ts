import { ErrorCode } from '@overskill/contracts';
import { DEFAULT_CACHE_CONFIG, LeveledCache, REDIS_CLIENT_OPTIONS } from '@overskill/persistence';
import Redis from 'ioredis';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { APP_ID, createHarness, type Harness } from '../__tests__/tool-harness';

// read_file through the file level of the cache on the stack's real Redis, and every tool that
// writes dropping what it changed. A file changed behind the cache's back shows whether a read
// was served from the cache.
describe('tool-runner: cached reads and the writes that drop them', () => {
  const url = process.env.OVERSKILL_TEST_REDIS_URL;
  if (!url) throw new Error('integration stack not running');
  const redis = new Redis(url, REDIS_CLIENT_OPTIONS);
  const registry = new Registry();
  const cache = new LeveledCache(redis, DEFAULT_CACHE_CONFIG, registry);
  const tree = { teamId: 'team-1', appId: APP_ID };
  let h: Harness;

  beforeAll(async () => {
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  });
  beforeEach(async () => {
    h = createHarness({ cache });
    // Every harness uses the same app id: start each test from an empty cache for it.
    await cache.dropApp(APP_ID);
  });
  afterEach(() => h.close());
  afterAll(() => redis.disconnect());

  const read = async (path: string) => (await h.run('read_file', { path })).output;
  const behindTheBack = (path: string, text: string) => writeFileSync(join(h.root, path), text);
  const hits = async () => (await registry.getSingleMetric('cache_hits_total')!.get()).values.find((v) => v.labels.level === 'file')?.value ?? 0;

  it('serves a second read from the cache, and a write_file drops it', async () => {
    behindTheBack('a.txt', 'one\n');
    expect(await read('a.txt')).toBe('one\n');
    const before = await hits();
    behindTheBack('a.txt', 'changed outside\n');
    expect(await read('a.txt')).toBe('one\n');
    expect(await hits()).toBe(before + 1);
    await h.run('write_file', { path: 'a.txt', content: 'two\n' });
    expect(await read('a.txt')).toBe('two\n');
  });

  it('drops the file after update_file and line_replace, which read it from disk, not the cache', async () => {
    behindTheBack('b.js', 'let x = 1;\n');
    await read('b.js');
    behindTheBack('b.js', 'let x = 2;\n');
    // The edit sees the file as it is on disk.
    expect(await h.run('update_file', { path: 'b.js', search: 'x = 2', replace: 'x = 3' })).toMatchObject({ isError: false });
    expect(await read('b.js')).toBe('let x = 3;\n');
    expect(await h.run('line_replace', { path: 'b.js', first_line: 1, last_line: 1, old_lines: 'let x = 3;', new_lines: 'let y = 4;' })).toMatchObject({
      isError: false,
    });
    expect(await read('b.js')).toBe('let y = 4;\n');
  });

  it('forgets a deleted or renamed file, and every file of a renamed folder', async () => {
    behindTheBack('gone.txt', 'bye');
    await read('gone.txt');
    await h.run('delete_file', { path: 'gone.txt' });
    expect(await h.run('read_file', { path: 'gone.txt' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_FILE_NOT_FOUND });

    behindTheBack('old.txt', 'moved');
    await read('old.txt');
    await h.run('rename_file', { from: 'old.txt', to: 'new.txt' });
    expect(await h.run('read_file', { path: 'old.txt' })).toMatchObject({ errorCode: ErrorCode.TOOL_FILE_NOT_FOUND });
    expect(await read('new.txt')).toBe('moved');

    mkdirSync(join(h.root, 'src'));
    behindTheBack('src/app.js', 'app');
    await read('src/app.js');
    await h.run('rename_file', { from: 'src', to: 'lib' });
    expect(await h.run('read_file', { path: 'src/app.js' })).toMatchObject({ errorCode: ErrorCode.TOOL_FILE_NOT_FOUND });
    expect(await read('lib/app.js')).toBe('app');
  });

  it("edits the app's file tree when a file git would list is created or deleted, and keeps it when one only changes", async () => {
    const load = jest.fn(async () => ['a.txt']);
    behindTheBack('a.txt', 'a');
    await cache.tenant('app_schema', tree, load);
    await h.run('write_file', { path: 'a.txt', content: 'edited' });
    await h.run('write_file', { path: 'src/c.txt', content: 'new' });
    expect(await cache.tenant('app_schema', tree, load)).toEqual(['a.txt', 'src/c.txt']);
    await h.run('delete_file', { path: 'a.txt' });
    expect(await cache.tenant('app_schema', tree, load)).toEqual(['src/c.txt']);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('leaves the file tree alone for a file git ignores, and drops it when the ignore rules change or a folder moves', async () => {
    behindTheBack('.gitignore', 'dist/\n*.log\n');
    const load = jest.fn(async () => ['.gitignore']);
    await cache.tenant('app_schema', tree, load);
    await h.run('write_file', { path: 'dist/index.html', content: 'built' });
    await h.run('write_file', { path: 'src/debug.log', content: 'noise' });
    expect(await cache.tenant('app_schema', tree, load)).toEqual(['.gitignore']);
    expect(load).toHaveBeenCalledTimes(1);
    await h.run('write_file', { path: '.gitignore', content: 'dist/\n' });
    await cache.tenant('app_schema', tree, load);
    expect(load).toHaveBeenCalledTimes(2);
    await h.run('rename_file', { from: 'src', to: 'lib' });
    await cache.tenant('app_schema', tree, load);
    expect(load).toHaveBeenCalledTimes(3);
  });
});
