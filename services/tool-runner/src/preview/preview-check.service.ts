import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { LOGGER, SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import type { Logger } from 'pino';
import { Counter, Histogram } from 'prom-client';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import { BrowserUnavailable, HeadlessBrowserRepository } from './headless-browser.repository';
import { previewOrigin } from './preview-address';
import { PREVIEW_SETTINGS, type PreviewSettings } from './preview-settings';
import { PreviewStoreRepository, type PreviewOwner, type StoredCheck } from './preview-store.repository';

const SHA = /^[0-9a-f]{40}$/;
const EMPTY = { consoleErrors: [], pageErrors: [], failedRequests: [], blank: false, loadMs: 0, screenshot: false };

// The headless check of one version: open it like a visitor, and report what went wrong.
@Injectable()
export class PreviewCheckService {
  private readonly checks: Counter<'outcome'>;
  private readonly duration: Histogram;

  constructor(
    private readonly store: PreviewStoreRepository,
    private readonly browser: HeadlessBrowserRepository,
    @Inject(PREVIEW_SETTINGS) private readonly settings: PreviewSettings,
    @Inject(TOOL_RUNNER_ENV) private readonly env: Pick<ToolRunnerEnv, 'PREVIEW_SCREENSHOT_TTL_SECONDS' | 'HOST'>,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_METRICS) metrics: ServiceMetrics,
  ) {
    const registers = [metrics.registry];
    this.checks = new Counter({ name: 'preview_checks_total', help: 'Headless preview checks by outcome', labelNames: ['outcome'], registers });
    this.duration = new Histogram({ name: 'preview_check_duration_seconds', help: 'Time of one headless preview check', buckets: [0.5, 1, 2, 3, 5, 10, 20], registers });
  }

  async check(owner: PreviewOwner, sha: string): Promise<StoredCheck> {
    if (!SHA.test(sha)) throw new AppError(ErrorCode.VALIDATION_FAILED, 'sha must be a full 40-character commit sha');
    const previewId = await this.store.ensure(owner);
    const url = `${previewOrigin(this.settings.internalBase, { previewId, sha })}/`;
    const checkedAt = new Date().toISOString();
    const started = performance.now();
    let result: StoredCheck;
    let png: Buffer | undefined;
    try {
      const seen = await this.browser.observe(url, this.resolverRules());
      png = seen.png;
      const failed = seen.consoleErrors.length + seen.pageErrors.length + seen.failedRequests.length > 0 || seen.blank;
      result = { sha, url, checkedAt, outcome: failed ? 'failed' : 'passed', consoleErrors: seen.consoleErrors, pageErrors: seen.pageErrors, failedRequests: seen.failedRequests, blank: seen.blank, loadMs: seen.loadMs, screenshot: true, reason: '' };
    } catch (err) {
      if (err instanceof BrowserUnavailable) {
        result = { ...EMPTY, sha, url, checkedAt, outcome: 'unavailable', reason: err.message };
      } else {
        // The page itself could not be opened or did not load in time: that is a finding.
        const why = String((err as Error)?.message ?? err).split('\n')[0] ?? 'unknown error';
        this.logger.info({ err, appId: owner.appId, sha }, 'preview check could not load the page');
        result = { ...EMPTY, sha, url, checkedAt, outcome: 'failed', pageErrors: [`The page did not load: ${why}`], reason: '' };
      }
    }
    await this.store.saveCheck(owner.appId, result, png, this.env.PREVIEW_SCREENSHOT_TTL_SECONDS);
    this.checks.inc({ outcome: result.outcome });
    this.duration.observe((performance.now() - started) / 1000);
    return result;
  }

  async screenshot(owner: PreviewOwner, sha: string): Promise<{ png: Buffer; takenAt: string }> {
    const png = SHA.test(sha) ? await this.store.screenshot(owner.appId, sha) : undefined;
    if (!png) throw new AppError(ErrorCode.PREVIEW_SCREENSHOT_NOT_FOUND, `No screenshot of version ${sha.slice(0, 40)}: the preview check takes one after each agent turn, and keeps it for a while`);
    const last = await this.store.lastCheck(owner.appId);
    return { png, takenAt: last?.sha === sha ? last.checkedAt : '' };
  }

  // The preview domain resolves to this replica's own listener.
  private resolverRules(): string {
    const host = ['0.0.0.0', '::', ''].includes(this.env.HOST) ? '127.0.0.1' : this.env.HOST;
    return `MAP *.${this.settings.domain} ${host}`;
  }
}
