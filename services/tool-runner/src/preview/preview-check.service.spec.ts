import { createServiceMetrics } from '@overskill/observability';
import pino from 'pino';
import type { DevServerService, DevTarget } from './dev-server/dev-server.service';
import { HeadlessBrowserRepository } from './headless-browser.repository';
import { PreviewCheckService } from './preview-check.service';
import type { PreviewFilesRepository } from './preview-files.repository';
import { previewSettings } from './preview-settings';
import type { PreviewStoreRepository, StoredCheck } from './preview-store.repository';

let metricsSeq = 0;
const PREVIEW_ID = 'abcdefghijklmnopqrst';
const DEV_PACKAGE = { devScript: 'vite', dependencySet: undefined };

function setup(dev: { pkg?: typeof DEV_PACKAGE; head?: string; target?: DevTarget; noIndex?: boolean } = {}) {
  const saved: StoredCheck[] = [];
  const store = {
    ensure: jest.fn(async () => PREVIEW_ID),
    saveCheck: jest.fn(async (_app: string, check: StoredCheck) => void saved.push(check)),
  } as unknown as PreviewStoreRepository;
  const files = {
    head: jest.fn(async () => dev.head ?? ''),
    read: jest.fn(async () => (dev.noIndex ? { kind: 'missing' } : { kind: 'file', content: Buffer.from('<h1>Hi</h1>') })),
  } as unknown as PreviewFilesRepository;
  const devServers = { devPackage: jest.fn(async () => dev.pkg), target: jest.fn(async () => dev.target) } as unknown as DevServerService;
  const logger = pino({ level: 'silent' });
  const browser = new HeadlessBrowserRepository(
    { PREVIEW_CHROMIUM_PATH: '/nonexistent/chromium', PREVIEW_CHECK_TIMEOUT_MS: 1000, PREVIEW_CHECK_IDLE_MS: 100 },
    logger,
  );
  const observe = jest.spyOn(browser, 'observe');
  const settings = previewSettings({ PREVIEW_PORT: 3080, PREVIEW_BASE_URL: undefined });
  const env = { PREVIEW_SCREENSHOT_TTL_SECONDS: 60, HOST: '127.0.0.1' };
  const service = new PreviewCheckService(
    store,
    browser,
    files,
    devServers,
    settings,
    { readyTimeoutMs: 3000 },
    env,
    logger,
    createServiceMetrics(`preview-check-spec-${++metricsSeq}`),
  );
  return { service, store, devServers, observe, saved, files };
}

// A check that cannot run says so, and is stored as such; it never passes.
describe('PreviewCheckService without Chromium', () => {
  it('answers unavailable with the reason, stores it, and takes no screenshot', async () => {
    const { service, store, saved } = setup();
    const sha = 'b'.repeat(40);
    const result = await service.check({ teamId: 't', appId: 'a' }, sha);
    expect(result).toMatchObject({ sha, outcome: 'unavailable', screenshot: false, url: `http://${PREVIEW_ID}-${sha}.preview.localhost:3080/` });
    expect(result.reason).toContain('Chromium is not installed at /nonexistent/chromium');
    expect(saved).toEqual([result]);
    expect(store.saveCheck).toHaveBeenCalledWith('a', result, undefined, 60);
  });
});

// Any repository can be a task's workspace: one with no page is not opened, and the check says so.
describe('PreviewCheckService for a repository that is no web app', () => {
  it('answers not_web_app with the reason when the version has no index.html and no dev script, without opening a browser', async () => {
    const { service, observe, saved, files } = setup({ noIndex: true });
    const sha = 'e'.repeat(40);
    const result = await service.check({ teamId: 't', appId: 'a' }, sha);
    expect(result).toMatchObject({ sha, outcome: 'not_web_app', screenshot: false, pageErrors: [] });
    expect(result.reason).toContain('no index.html and no package.json with a dev script');
    expect(files.read).toHaveBeenCalledWith({ teamId: 't', appId: 'a' }, 'index.html', sha);
    expect(observe).not.toHaveBeenCalled();
    expect(saved).toEqual([result]);
  });
});

// A dev-server app is checked at its live preview, only at the workspace's current commit.
describe('PreviewCheckService for a dev-server app', () => {
  const sha = 'c'.repeat(40);

  it('opens the live preview (no sha in the address), not the raw files', async () => {
    const { service, devServers, observe } = setup({ pkg: DEV_PACKAGE, head: sha, target: { kind: 'local', port: 27000 } });
    const result = await service.check({ teamId: 't', appId: 'a' }, sha);
    expect(observe).toHaveBeenCalledWith(`http://${PREVIEW_ID}.preview.localhost:3080/`, expect.any(String));
    expect(devServers.target).toHaveBeenCalledWith({ teamId: 't', appId: 'a' }, DEV_PACKAGE, { waitMs: 4000, retryCrashed: true });
    expect(result.url).toBe(`http://${PREVIEW_ID}.preview.localhost:3080/`);
  });

  it('says plainly that an older version cannot be checked live, without opening anything', async () => {
    const { service, devServers, observe, saved } = setup({ pkg: DEV_PACKAGE, head: 'd'.repeat(40) });
    const result = await service.check({ teamId: 't', appId: 'a' }, sha);
    expect(result).toMatchObject({ sha, outcome: 'unavailable', pageErrors: [], consoleErrors: [], screenshot: false });
    expect(result.reason).toContain(`is not the workspace's current commit (${'d'.repeat(12)})`);
    expect(devServers.target).not.toHaveBeenCalled();
    expect(observe).not.toHaveBeenCalled();
    expect(saved).toEqual([result]);
  });

  it('reports a crashed dev server as a failure with its state and reason', async () => {
    const { service, observe } = setup({
      pkg: DEV_PACKAGE,
      head: sha,
      target: { kind: 'unavailable', state: 'crashed', reason: 'The dev server exited with code 1' },
    });
    const result = await service.check({ teamId: 't', appId: 'a' }, sha);
    expect(result).toMatchObject({ outcome: 'failed', reason: 'The dev server is crashed: The dev server exited with code 1', screenshot: false });
    expect(result.pageErrors).toEqual([result.reason]);
    expect(observe).not.toHaveBeenCalled();
  });

  it('does not pass a dev server that is still starting after the wait', async () => {
    const { service } = setup({
      pkg: DEV_PACKAGE,
      head: sha,
      target: { kind: 'unavailable', state: 'installing', reason: 'Installing dependencies into the shared store' },
    });
    const result = await service.check({ teamId: 't', appId: 'a' }, sha);
    expect(result).toMatchObject({ outcome: 'unavailable', pageErrors: [] });
    expect(result.reason).toBe('The dev server is installing: Installing dependencies into the shared store (still not ready after 4 s)');
  });
});
