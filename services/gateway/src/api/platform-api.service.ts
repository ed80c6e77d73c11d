import { Injectable } from '@nestjs/common';
import { orchestratorV1 } from '@overskill/contracts';
import { trace } from '@opentelemetry/api';
import type { z } from 'zod';
import type { Principal } from '../routing/access';
import type { CancelRunBody, CreateAppBody, PageQuery, UpdateAppBody } from '../routing/schemas';
import { AppListCache } from './app-list-cache';
import { AppsRepository } from './apps.repository';

export const RUN_STATUS_NAMES: Record<orchestratorV1.RunStatus, 'unknown' | 'queued' | 'running' | 'completed' | 'failed' | 'cancelled'> = {
  [orchestratorV1.RunStatus.UNSPECIFIED]: 'unknown',
  [orchestratorV1.RunStatus.QUEUED]: 'queued',
  [orchestratorV1.RunStatus.RUNNING]: 'running',
  [orchestratorV1.RunStatus.COMPLETED]: 'completed',
  [orchestratorV1.RunStatus.FAILED]: 'failed',
  [orchestratorV1.RunStatus.CANCELLED]: 'cancelled',
};

// Apps, messages and runs as the API shows them. Every request carries the key's team.
@Injectable()
export class PlatformApiService {
  constructor(
    private readonly apps: AppsRepository,
    private readonly appLists: AppListCache,
  ) {}

  async createApp(principal: Principal, body: z.infer<typeof CreateAppBody>) {
    return appJson(await this.apps.create({ teamId: principal.teamId, ...body }));
  }

  // The API's busiest read, answered from this replica's copy while the team's apps are unchanged.
  async listApps(principal: Principal, query: z.infer<typeof PageQuery>) {
    const { value, result } = await this.appLists.page(principal.teamId, `${query.limit}\n${query.cursor}`, async () => {
      const page = await this.apps.list({ teamId: principal.teamId, pageSize: query.limit, pageToken: query.cursor });
      return { data: page.apps.map(appJson), nextCursor: page.nextPageToken || null };
    });
    trace.getActiveSpan()?.setAttribute('overskill.app_list_cache', result);
    return value;
  }

  async getApp(principal: Principal, appId: string) {
    return appJson(await this.apps.get({ teamId: principal.teamId, appId }));
  }

  async updateApp(principal: Principal, appId: string, body: z.infer<typeof UpdateAppBody>) {
    return appJson(
      await this.apps.update({
        teamId: principal.teamId,
        appId,
        name: body.name,
        description: body.description,
        maxIterations: body.maxIterations,
      }),
    );
  }

  async deleteApp(principal: Principal, appId: string) {
    const deleted = await this.apps.delete({ teamId: principal.teamId, appId });
    return { id: deleted.appId || appId, deleted: true as const };
  }

  async postMessage(principal: Principal, appId: string, content: string, idempotencyKey = '') {
    const posted = await this.apps.postMessage({ teamId: principal.teamId, appId, content, authorId: principal.keyId, idempotencyKey });
    return {
      messageId: posted.messageId,
      runId: posted.runId,
      runUrl: `/api/runs/${posted.runId}`,
      eventsUrl: `/api/runs/${posted.runId}/events`,
      replayed: posted.replayed,
    };
  }

  async listMessages(principal: Principal, appId: string, query: z.infer<typeof PageQuery>) {
    const page = await this.apps.listMessages({ teamId: principal.teamId, appId, pageSize: query.limit, pageToken: query.cursor });
    return {
      data: page.messages.map((m) => ({
        id: m.id,
        role: m.role,
        content: m.content,
        authorId: m.authorId || null,
        runId: m.runId || null,
        createdAt: m.createdAt,
      })),
      nextCursor: page.nextPageToken || null,
    };
  }

  async listRuns(principal: Principal, appId: string, query: z.infer<typeof PageQuery>) {
    const page = await this.apps.listRuns({ teamId: principal.teamId, appId, pageSize: query.limit, pageToken: query.cursor });
    return { data: page.runs.map(runJson), nextCursor: page.nextPageToken || null };
  }

  async getRun(principal: Principal, runId: string) {
    return runJson(await this.apps.getRun({ teamId: principal.teamId, runId }));
  }

  async cancelRun(principal: Principal, runId: string, body: z.infer<typeof CancelRunBody>) {
    return runJson(await this.apps.cancelRun({ teamId: principal.teamId, runId, reason: body.reason ?? '', requestedBy: principal.keyId }));
  }
}

export function appJson(app: orchestratorV1.App) {
  return {
    id: app.id,
    name: app.name,
    description: app.description,
    template: app.template,
    maxIterations: app.maxIterations,
    createdAt: app.createdAt,
    updatedAt: app.updatedAt,
  };
}

export function runJson(run: orchestratorV1.Run) {
  return {
    id: run.id,
    appId: run.appId,
    status: RUN_STATUS_NAMES[run.status] ?? 'unknown',
    error: run.errorCode ? { code: run.errorCode, message: run.errorMessage } : null,
    commitSha: run.commitSha || null,
    iterations: run.iterations,
    inputTokens: Number(run.inputTokens),
    outputTokens: Number(run.outputTokens),
    costUsd: run.costUsd,
    createdAt: run.createdAt,
    finishedAt: run.finishedAt || null,
    steps: run.steps.map((s) => ({ seq: s.seq, kind: s.kind, summary: s.summary, createdAt: s.createdAt })),
  };
}
