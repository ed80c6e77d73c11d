import { createServiceMetrics } from '@overskill/observability';
import pino from 'pino';
import { HeadlessBrowserRepository } from './headless-browser.repository';
import { PreviewCheckService } from './preview-check.service';
import { previewSettings } from './preview-settings';
import type { PreviewStoreRepository, StoredCheck } from './preview-store.repository';

// A check that cannot run says so, and is stored as such; it never passes.
describe('PreviewCheckService without Chromium', () => {
  it('answers unavailable with the reason, stores it, and takes no screenshot', async () => {
    const saved: StoredCheck[] = [];
    const store = { ensure: jest.fn(async () => 'abcdefghijklmnopqrst'), saveCheck: jest.fn(async (_app: string, check: StoredCheck) => void saved.push(check)) } as unknown as PreviewStoreRepository;
    const logger = pino({ level: 'silent' });
    const browser = new HeadlessBrowserRepository({ PREVIEW_CHROMIUM_PATH: '/nonexistent/chromium', PREVIEW_CHECK_TIMEOUT_MS: 1000, PREVIEW_CHECK_IDLE_MS: 100 }, logger);
    const service = new PreviewCheckService(store, browser, previewSettings({ PREVIEW_PORT: 3080, PREVIEW_BASE_URL: undefined }), { PREVIEW_SCREENSHOT_TTL_SECONDS: 60, HOST: '127.0.0.1' }, logger, createServiceMetrics('preview-check-spec'));
    const sha = 'b'.repeat(40);
    const result = await service.check({ teamId: 't', appId: 'a' }, sha);
    expect(result).toMatchObject({ sha, outcome: 'unavailable', screenshot: false, url: `http://abcdefghijklmnopqrst-${sha}.preview.localhost:3080/` });
    expect(result.reason).toContain('Chromium is not installed at /nonexistent/chromium');
    expect(saved).toEqual([result]);
    expect(store.saveCheck).toHaveBeenCalledWith('a', result, undefined, 60);
  });
});
