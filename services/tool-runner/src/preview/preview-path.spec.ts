import { AppError, ErrorCode } from '@overskill/contracts';
import { previewFilePath, wantsPageFallback } from './preview-path';

const refused = (url: string) => {
  try {
    previewFilePath(url);
  } catch (err) {
    return err instanceof AppError ? err.code : 'other';
  }
  return 'served';
};

describe('previewFilePath', () => {
  it('maps URL paths to files, folders to their index.html, and ignores the query', () => {
    expect(previewFilePath('/')).toEqual({ path: 'index.html', hidden: false });
    expect(previewFilePath('/app.js?v=2#x')).toEqual({ path: 'app.js', hidden: false });
    expect(previewFilePath('/docs/')).toEqual({ path: 'docs/index.html', hidden: false });
    expect(previewFilePath('//img///logo.png')).toEqual({ path: 'img/logo.png', hidden: false });
    expect(previewFilePath('/my%20file.txt')).toEqual({ path: 'my file.txt', hidden: false });
  });

  it('refuses dot segments (encoded or not), encoded separators, control characters and bad encoding', () => {
    for (const url of [
      '/../etc/passwd',
      '/a/../../b',
      '/%2e%2e/x',
      '/%2E%2E%2Fx',
      '/a%2f..%2fb',
      '/a%5cb',
      '/./x',
      '/%00',
      '/%E0%A4%A',
      `/${'a'.repeat(1100)}`,
    ]) {
      expect({ url, code: refused(url) }).toEqual({ url, code: ErrorCode.PREVIEW_PATH_INVALID });
    }
  });

  it('marks hidden names (.git, .env) so they are never served', () => {
    expect(previewFilePath('/.git/config').hidden).toBe(true);
    expect(previewFilePath('/%2egit/HEAD').hidden).toBe(true);
    expect(previewFilePath('/a/.env').hidden).toBe(true);
  });
});

describe('wantsPageFallback', () => {
  it('falls back to index.html for page routes and HTML navigations, not for assets', () => {
    expect(wantsPageFallback('todos/42', '*/*')).toBe(true);
    expect(wantsPageFallback('report.pdf', 'text/html,application/xhtml+xml')).toBe(true);
    expect(wantsPageFallback('missing.js', '*/*')).toBe(false);
    expect(wantsPageFallback('missing.png', undefined)).toBe(false);
  });
});
