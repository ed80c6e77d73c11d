import { Injectable } from '@nestjs/common';
import type { toolV1 } from '@overskill/contracts';
import type { z } from 'zod';
import type { PreviewLogsQuery } from '../routing/schemas';
import type { Principal } from '../routing/access';
import { AppsRepository } from '../api/apps.repository';
import { PreviewRepository } from './preview.repository';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];
const SERVER_SOURCE = 'server';

// The app preview as the API shows it: served by tool-runner, what its browsers saw stored by
// analytics. The app is first looked up in the caller's team: another team's app is
// APP_NOT_FOUND before anyone else is asked.
@Injectable()
export class PreviewApiService {
  constructor(
    private readonly apps: AppsRepository,
    private readonly previews: PreviewRepository,
  ) {}

  private async ownApp(principal: Principal, appId: string): Promise<{ teamId: string; appId: string }> {
    await this.apps.get({ teamId: principal.teamId, appId });
    return { teamId: principal.teamId, appId };
  }

  async get(principal: Principal, appId: string) {
    return toPreview(await this.previews.get(await this.ownApp(principal, appId)));
  }

  async restart(principal: Principal, appId: string) {
    return toPreview(await this.previews.restart(await this.ownApp(principal, appId)));
  }

  async rotate(principal: Principal, appId: string) {
    return toPreview(await this.previews.rotate(await this.ownApp(principal, appId)));
  }

  async screenshot(principal: Principal, appId: string, sha: string): Promise<Buffer> {
    const shot = await this.previews.screenshot({ ...(await this.ownApp(principal, appId)), sha });
    return Buffer.from(shot.png);
  }

  // Console entries and requests merged newest first; a failed request counts as an error.
  async logs(principal: Principal, appId: string, query: z.infer<typeof PreviewLogsQuery>) {
    const owner = await this.ownApp(principal, appId);
    const base = { ...owner, since: query.since ?? '', limit: query.limit };
    const minLevel: Level = query.level ?? 'debug';
    const [consoleLogs, requests] = await Promise.all([
      query.source === 'network' ? undefined : this.previews.consoleLogs({ ...base, minLevel }),
      query.source === 'console' || query.source === 'server'
        ? undefined
        : this.previews.requests({ ...base, failedOnly: LEVELS.indexOf(minLevel) > LEVELS.indexOf('info') }),
    ]);
    // A dev server's own output is stored as console entries whose location is `server`.
    const consoleEntries = (consoleLogs?.entries ?? []).filter(
      (e) => !query.source || query.source === 'network' || (e.source === SERVER_SOURCE) === (query.source === 'server'),
    );
    const entries = [
      ...consoleEntries.map((e) => ({
        source: e.source === SERVER_SOURCE ? ('server' as const) : ('console' as const),
        level: (LEVELS as readonly string[]).includes(e.level) ? (e.level as Level) : 'info',
        message: e.message,
        location: e.source === SERVER_SOURCE ? null : e.source || null,
        pageUrl: e.pageUrl,
        occurredAt: e.occurredAt,
      })),
      ...(requests?.entries ?? []).map((e) => {
        const failed = e.status === 0 || e.status >= 400;
        return {
          source: 'network' as const,
          level: failed ? ('error' as const) : ('info' as const),
          message: `${e.method} ${e.url} → ${e.status === 0 ? `failed: ${e.error || 'no response'}` : e.status} (${Math.round(e.durationMs)} ms)`,
          location: null,
          pageUrl: e.pageUrl,
          occurredAt: e.occurredAt,
        };
      }),
    ];
    entries.sort((a, b) => (a.occurredAt < b.occurredAt ? 1 : a.occurredAt > b.occurredAt ? -1 : 0));
    return { entries: entries.slice(0, query.limit) };
  }
}

function toPreview(info: toolV1.PreviewInfo) {
  const check = info.lastCheck;
  return {
    appId: info.appId,
    previewId: info.previewId,
    url: info.url,
    mode: info.mode === 'dev-server' ? ('dev-server' as const) : ('static' as const),
    state: (['installing', 'starting', 'running', 'crashed', 'stopped'] as const).find((s) => s === info.state) ?? 'stopped',
    reason: info.reason || null,
    lastCheck: check
      ? {
          sha: check.sha,
          outcome: (['passed', 'failed', 'unavailable'] as const).find((o) => o === check.outcome) ?? 'unavailable',
          consoleErrors: check.consoleErrors,
          pageErrors: check.pageErrors,
          failedRequests: check.failedRequests,
          blank: check.blank,
          loadMs: check.loadMs,
          screenshotUrl: check.screenshot ? `/api/apps/${info.appId}/versions/${check.sha}/screenshot` : null,
          reason: check.reason || null,
          checkedAt: check.checkedAt,
        }
      : null,
  };
}
