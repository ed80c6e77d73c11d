import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CACHE_CONFIG, loadCacheConfig, parseCacheConfig } from './cache-config';

describe('cache config', () => {
  it('reads the seed file (under production:) with sizes and the keys of each level', () => {
    const config = parseCacheConfig(
      `production:
  redis:
    url: redis://localhost
    pool_size: 10
  cache_levels:
    global: { ttl: 3600, keys: [ai_standards] }
    tenant: { ttl: 1800, max_entry_size: 1MB, keys: [app_schema] }
    file: { ttl: 600, max_entry_size: 64KB, keys: [file_contents, file_metadata] }
`,
      'cache.yml',
    );
    expect(config.levels).toEqual({
      global: { ttlSeconds: 3600, maxEntryBytes: DEFAULT_CACHE_CONFIG.levels.global.maxEntryBytes },
      tenant: { ttlSeconds: 1800, maxEntryBytes: 1024 * 1024 },
      file: { ttlSeconds: 600, maxEntryBytes: 64 * 1024 },
    });
    expect(config.source).toBe('cache.yml');
  });

  it('ships config/cache.yml with the seed values', () => {
    const config = loadCacheConfig(join(__dirname, '../../../../config/cache.yml'));
    expect(config.levels).toEqual(DEFAULT_CACHE_CONFIG.levels);
    expect(loadCacheConfig(undefined)).toBe(DEFAULT_CACHE_CONFIG);
  });

  it.each([
    ['cache_levels:\n  tenant: { ttl: 0 }\n', 'cache_levels.tenant.ttl: Number must be greater than or equal to 1'],
    ['cache_levels:\n  file: { ttl: 60, max_entry_size: lots }\n', 'cache_levels.file.max_entry_size: "lots" is not a size'],
    ['cache_levels:\n  session: { ttl: 60 }\n', "Unrecognized key(s) in object: 'session'"],
    ['cache_levels:\n  global: { ttl: 60, keys: [file_contents] }\n', '"file_contents" belongs to the file level'],
    ['cache_levels:\n  tenant: { ttl: 60, keys: [user_secrets] }\n', 'unknown entry "user_secrets"'],
    ['cache_levels: [\n', 'not valid YAML'],
  ])('refuses %j naming the problem', (text, problem) => {
    expect(() => parseCacheConfig(text, 'cache.yml')).toThrow(problem);
  });

  it('says which file cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cache-config-'));
    expect(() => loadCacheConfig(join(dir, 'missing.yml'))).toThrow(`CACHE_CONFIG_FILE ${join(dir, 'missing.yml')} cannot be read: ENOENT`);
    writeFileSync(join(dir, 'ok.yml'), 'cache_levels: {}\n');
    expect(loadCacheConfig(join(dir, 'ok.yml')).levels).toEqual(DEFAULT_CACHE_CONFIG.levels);
  });
});
