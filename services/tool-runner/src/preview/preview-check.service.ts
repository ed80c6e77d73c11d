import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { LOGGER, SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import type { Logger } from 'pino';
import { Counter, Histogram } from 'prom-client';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import { DevServerService } from './dev-server/dev-server.service';
import { DEV_SETTINGS, type DevSettings } from './dev-server/dev-settings';
import { BrowserUnavailable, HeadlessBrowserRepository } from './headless-browser.repository';
import { previewOrigin } from './preview-address';
import { PreviewFilesRepository } from './preview-files.repository';
import { PREVIEW_SETTINGS, type PreviewSettings } from './preview-settings';
import { PreviewStoreRepository, type PreviewOwner, type StoredCheck } from './preview-store.repository';

const SHA = /^[0-9a-f]{40}$/;
const EMPTY = { consoleErrors: [], pageErrors: [], failedRequests: [], blank: false, loadMs: 0, screenshot: false };
// How long a check waits for a dev server to answer: inside the orchestrator's wait for the whole
// check (PREVIEW_CHECK_TIMEOUT_MS there, 45 s by default), with room left to load the page.
const DEV_WAIT_CAP_MS = 20_000;

// The page a check opens: a version's files by sha, the live dev server, or nothing (and why).
type CheckTarget =
  { kind: 'open'; url: string } | { kind: 'skip'; url: string; outcome: 'failed' | 'unavailable' | 'not_web_app'; reason: string; pageErrors: string[] };

// The headless check of one version: open it like a visitor, and report what went wrong.
@Injectable()
export class PreviewCheckService {
  private readonly checks: Counter<'outcome'>;
  private readonly duration: Histogram;

  constructor(
    private readonly store: PreviewStoreRepository,
    private readonly browser: HeadlessBrowserRepository,
    private readonly files: PreviewFilesRepository,
    private readonly devServers: DevServerService,
    @Inject(PREVIEW_SETTINGS) private readonly settings: PreviewSettings,
    @Inject(DEV_SETTINGS) private readonly dev: Pick<DevSettings, 'readyTimeoutMs'>,
    @Inject(TOOL_RUNNER_ENV) private readonly env: Pick<ToolRunnerEnv, 'PREVIEW_SCREENSHOT_TTL_SECONDS' | 'HOST'>,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_METRICS) metrics: ServiceMetrics,
  ) {
    const registers = [metrics.registry];
    this.checks = new Counter({ name: 'preview_checks_total', help: 'Headless preview checks by outcome', labelNames: ['outcome'], registers });
    this.duration = new Histogram({
      name: 'preview_check_duration_seconds',
      help: 'Time of one headless preview check',
      buckets: [0.5, 1, 2, 3, 5, 10, 20],
      registers,
    });
  }

  async check(owner: PreviewOwner, sha: string): Promise<StoredCheck> {
    if (!SHA.test(sha)) throw new AppError(ErrorCode.VALIDATION_FAILED, 'sha must be a full 40-character commit sha');
    const previewId = await this.store.ensure(owner);
    const checkedAt = new Date().toISOString();
    const started = performance.now();
    const target = await this.targetOf(owner, previewId, sha);
    const url = target.url;
    let result: StoredCheck;
    let png: Buffer | undefined;
    if (target.kind === 'skip') {
      result = { ...EMPTY, sha, url, checkedAt, outcome: target.outcome, pageErrors: target.pageErrors, reason: target.reason };
    } else {
      [result, png] = await this.observe(owner, sha, url, checkedAt);
    }
    await this.store.saveCheck(owner.appId, result, png, this.env.PREVIEW_SCREENSHOT_TTL_SECONDS);
    this.checks.inc({ outcome: result.outcome });
    this.duration.observe((performance.now() - started) / 1000);
    return result;
  }

  async screenshot(owner: PreviewOwner, sha: string): Promise<{ png: Buffer; takenAt: string }> {
    const png = SHA.test(sha) ? await this.store.screenshot(owner.appId, sha) : undefined;
    if (!png)
      throw new AppError(
        ErrorCode.PREVIEW_SCREENSHOT_NOT_FOUND,
        `No screenshot of version ${sha.slice(0, 40)}: the preview check takes one after each agent turn, and keeps it for a while`,
      );
    const last = await this.store.lastCheck(owner.appId);
    return { png, takenAt: last?.sha === sha ? last.checkedAt : '' };
  }

  // The screenshot of a version written into the app's own workspace (a task commits it to its
  // branch), through the same descriptor-checked writes as the file tools.
  async saveScreenshot(owner: PreviewOwner, sha: string, path: string): Promise<{ path: string; bytes: number }> {
    const { png } = await this.screenshot(owner, sha);
    await this.files.write(owner, path, png);
    return { path, bytes: png.length };
  }

  private async observe(owner: PreviewOwner, sha: string, url: string, checkedAt: string): Promise<[StoredCheck, Buffer | undefined]> {
    let result: StoredCheck;
    let png: Buffer | undefined;
    try {
      const seen = await this.browser.observe(url, this.resolverRules());
      png = seen.png;
      const failed = seen.consoleErrors.length + seen.pageErrors.length + seen.failedRequests.length > 0 || seen.blank;
      result = {
        sha,
        url,
        checkedAt,
        outcome: failed ? 'failed' : 'passed',
        consoleErrors: seen.consoleErrors,
        pageErrors: seen.pageErrors,
        failedRequests: seen.failedRequests,
        blank: seen.blank,
        loadMs: seen.loadMs,
        screenshot: true,
        reason: '',
      };
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
    return [result, png];
  }

  // A static app is checked from its files at that sha. A dev-server app is what its dev server
  // serves (raw TSX is not the page a user sees), and that runs the workspace's current commit only.
  private async targetOf(owner: PreviewOwner, previewId: string, sha: string): Promise<CheckTarget> {
    const pkg = await this.devServers.devPackage(owner);
    if (!pkg) {
      const url = `${previewOrigin(this.settings.internalBase, { previewId, sha })}/`;
      // Any repository can be a task's workspace: one with no page to open is not checked, and says so.
      if ((await this.files.read(owner, 'index.html', sha)).kind !== 'file') {
        const reason = 'This version has no index.html and no package.json with a dev script: it is not a web app, so there is no page to check';
        return { kind: 'skip', url, outcome: 'not_web_app', reason, pageErrors: [] };
      }
      return { kind: 'open', url };
    }
    const url = `${previewOrigin(this.settings.internalBase, { previewId })}/`;
    const head = await this.files.head(owner);
    if (head !== sha) {
      const reason = `Version ${sha.slice(0, 12)} is not the workspace's current commit (${head.slice(0, 12) || 'none'}): this app runs on a dev server, which serves only its latest files, so an older version cannot be checked live`;
      return { kind: 'skip', url, outcome: 'unavailable', reason, pageErrors: [] };
    }
    const waitMs = Math.min(this.dev.readyTimeoutMs + 1000, DEV_WAIT_CAP_MS);
    const found = await this.devServers.target(owner, pkg, { waitMs, retryCrashed: true });
    if (found.kind !== 'unavailable') return { kind: 'open', url };
    const reason = `The dev server is ${found.state}: ${found.reason || 'no reason given'}`;
    // A crash (or a server that never answered) is the app's fault and the agent can act on it;
    // one still installing or starting after the wait is not checked, and not a pass either.
    if (found.state === 'crashed') return { kind: 'skip', url, outcome: 'failed', reason, pageErrors: [reason] };
    return { kind: 'skip', url, outcome: 'unavailable', reason: `${reason} (still not ready after ${Math.round(waitMs / 1000)} s)`, pageErrors: [] };
  }

  // The preview domain resolves to this replica's own listener.
  private resolverRules(): string {
    const host = ['0.0.0.0', '::', ''].includes(this.env.HOST) ? '127.0.0.1' : this.env.HOST;
    return `MAP *.${this.settings.domain} ${host}`;
  }
}
