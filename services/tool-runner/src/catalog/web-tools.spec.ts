import { AppError, ErrorCode } from '@overskill/contracts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FetchOptions, FetchResult } from '../network/guarded-http.client';
import { createHarness, type Harness } from '../__tests__/tool-harness';

function httpAnswering(result: Partial<FetchResult> & { body: Buffer; mediaType: string }) {
  const calls: Array<{ url: string; opts: FetchOptions }> = [];
  return {
    calls,
    http: {
      get: async (url: string, opts: FetchOptions) => {
        calls.push({ url, opts });
        if (!opts.accept(result.mediaType)) throw new AppError(ErrorCode.TOOL_FETCH_CONTENT_TYPE, `${url} is ${result.mediaType}`);
        return { url, status: 200, redirects: [], address: '93.184.215.14', ...result };
      },
    } as never,
  };
}

describe('web tools', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('fetch_website returns the page as Markdown with its source', async () => {
    const { http, calls } = httpAnswering({
      mediaType: 'text/html',
      body: Buffer.from('<title>T</title><main><h2>Hi</h2><p>there</p></main>'),
      redirects: ['https://example.com/b'],
      url: 'https://example.com/b',
    });
    h = createHarness({ deps: { http } });
    expect((await h.run('fetch_website', { url: 'https://example.com/a' })).output).toBe(
      '# T\n\nSource: https://example.com/b (redirected from https://example.com/a)\n\n## Hi\n\nthere',
    );
    expect(calls[0]!.opts.maxBytes).toBe(h.env.TOOL_FETCH_MAX_BYTES);
    expect(calls[0]!.opts.accept('application/zip')).toBe(false);
  });

  it('download_to_repo writes the file under the lock, refuses to overwrite by default, and refuses archives', async () => {
    const { http } = httpAnswering({ mediaType: 'image/png', body: Buffer.from('PNGDATA') });
    h = createHarness({ deps: { http } });
    expect((await h.run('download_to_repo', { url: 'https://cdn.example.com/logo.png', path: 'public/logo.png' })).output).toBe(
      'Downloaded https://cdn.example.com/logo.png to public/logo.png (7 bytes, image/png)',
    );
    expect(readFileSync(join(h.root, 'public/logo.png'), 'utf8')).toBe('PNGDATA');
    expect(h.locks).toHaveLength(1);
    expect(await h.run('download_to_repo', { url: 'https://cdn.example.com/logo.png', path: 'public/logo.png' })).toMatchObject({
      isError: true,
      errorCode: ErrorCode.TOOL_FILE_EXISTS,
    });
    expect(await h.run('download_to_repo', { url: 'https://cdn.example.com/logo.png', path: '.git/hooks/pre-commit' })).toMatchObject({
      isError: true,
      errorCode: ErrorCode.TOOL_PATH_PROTECTED,
    });
    h.close();
    h = createHarness({ deps: httpAnswering({ mediaType: 'application/zip', body: Buffer.from('PK') }) });
    expect(await h.run('download_to_repo', { url: 'https://x.example/a.zip', path: 'a.zip' })).toMatchObject({
      isError: true,
      errorCode: ErrorCode.TOOL_FETCH_CONTENT_TYPE,
    });
  });

  it('web_search answers "not configured" clearly without a provider', async () => {
    h = createHarness({
      deps: {
        webSearch: {
          search: async () => {
            throw new AppError(ErrorCode.TOOL_NOT_CONFIGURED, 'Web search is not configured on this platform');
          },
        } as never,
      },
    });
    expect(await h.run('web_search', { query: 'nestjs' })).toMatchObject({
      isError: true,
      errorCode: ErrorCode.TOOL_NOT_CONFIGURED,
      output: expect.stringContaining('not configured'),
    });
  });

  it('web_search lists results', async () => {
    h = createHarness({ deps: { webSearch: { search: async () => [{ title: 'NestJS', url: 'https://nestjs.com', snippet: 'A framework' }] } as never } });
    expect((await h.run('web_search', { query: 'nestjs', count: 1 })).output).toBe('1. NestJS\n   https://nestjs.com\n   A framework');
  });
});
