import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { LOGGER } from '@overskill/observability';
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type * as Playwright from 'playwright-core';
import type { Browser } from 'playwright-core';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';

export interface PageObservation {
  consoleErrors: string[];
  pageErrors: string[];
  failedRequests: string[];
  blank: boolean;
  loadMs: number;
  png: Buffer;
}

// Reported when Chromium cannot be used at all, or the version has no page to open: the check
// says so instead of passing or failing.
export class BrowserUnavailable extends Error {}

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];
const MAX_ITEMS = 20;
const MAX_TEXT = 500;
// Visible content: text, or a sized image, canvas, svg, video or iframe.
const BLANK_PROBE = `(() => {
  const body = document.body;
  if (!body) return true;
  if ((body.innerText || '').trim().length > 0) return false;
  for (const el of body.querySelectorAll('img, canvas, svg, video, iframe, input, button, textarea, select')) {
    const r = el.getBoundingClientRect();
    if (r.width > 4 && r.height > 4) return false;
  }
  return true;
})()`;

// One headless Chromium per replica (playwright-core driving the OS package), a fresh
// incognito context per check: no cookies or storage carry over between checks.
@Injectable()
export class HeadlessBrowserRepository implements OnModuleDestroy {
  private browser?: Promise<Browser>;

  constructor(
    @Inject(TOOL_RUNNER_ENV) private readonly env: Pick<ToolRunnerEnv, 'PREVIEW_CHROMIUM_PATH' | 'PREVIEW_CHECK_TIMEOUT_MS' | 'PREVIEW_CHECK_IDLE_MS'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private launch(resolverRules: string): Promise<Browser> {
    if (!existsSync(this.env.PREVIEW_CHROMIUM_PATH)) {
      return Promise.reject(
        new BrowserUnavailable(`Chromium is not installed at ${this.env.PREVIEW_CHROMIUM_PATH} (PREVIEW_CHROMIUM_PATH); the preview was not checked`),
      );
    }
    // Required on the first check: playwright-core is ~300 ms of module loading at start otherwise.
    this.browser ??= (require('playwright-core') as typeof Playwright).chromium
      .launch({
        executablePath: this.env.PREVIEW_CHROMIUM_PATH,
        args: [...ARGS, `--host-resolver-rules=${resolverRules}`],
        timeout: this.env.PREVIEW_CHECK_TIMEOUT_MS,
      })
      .then((browser) => {
        browser.on('disconnected', () => (this.browser = undefined));
        return browser;
      })
      .catch((err: unknown) => {
        this.browser = undefined;
        throw new BrowserUnavailable(`Chromium did not start: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
      });
    return this.browser;
  }

  // resolverRules maps the preview domain to this replica's listener.
  async observe(url: string, resolverRules: string): Promise<PageObservation> {
    const browser = await this.launch(resolverRules);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: 'block' });
    const cut = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s);
    const add = (list: string[], item: string) => list.length < MAX_ITEMS && list.push(cut(item));
    const seen: PageObservation = { consoleErrors: [], pageErrors: [], failedRequests: [], blank: false, loadMs: 0, png: Buffer.alloc(0) };
    try {
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() !== 'error') return;
        const where = m.location();
        add(seen.consoleErrors, where.url ? `${m.text()} (${where.url}:${where.lineNumber + 1})` : m.text());
      });
      page.on('pageerror', (err) => add(seen.pageErrors, err.stack || `${err.name}: ${err.message}`));
      page.on('requestfailed', (req) => add(seen.failedRequests, `${req.method()} ${req.url()} → failed: ${req.failure()?.errorText ?? 'unknown'}`));
      page.on('response', (res) => {
        if (res.status() >= 400) add(seen.failedRequests, `${res.request().method()} ${res.url()} → ${res.status()}`);
      });
      const started = performance.now();
      const response = await page.goto(url, { waitUntil: 'load', timeout: this.env.PREVIEW_CHECK_TIMEOUT_MS });
      if (response?.status() === 404) throw new BrowserUnavailable('This version has no index.html, so there is no page to check');
      seen.loadMs = Math.round(performance.now() - started);
      // Bounded: a page that polls forever still gets checked.
      await page.waitForLoadState('networkidle', { timeout: this.env.PREVIEW_CHECK_IDLE_MS * 4 }).catch(() => undefined);
      seen.blank = Boolean(await page.evaluate(BLANK_PROBE));
      seen.png = await page.screenshot({ type: 'png', timeout: this.env.PREVIEW_CHECK_TIMEOUT_MS });
      return seen;
    } finally {
      await context.close().catch((err: unknown) => this.logger.warn({ err }, 'closing a check context failed'));
    }
  }

  async onModuleDestroy(): Promise<void> {
    const browser = await this.browser?.catch(() => undefined);
    await browser?.close().catch(() => undefined);
  }
}
