import { Injectable } from '@nestjs/common';
import { orchestratorV1, Rpc } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';
import type { z } from 'zod';
import type { Principal } from '../keys/api-keys.service';
import type { createAppBody, listAppsQuery } from './request-schemas';

const RUN_STATUS_NAMES: Record<orchestratorV1.RunStatus, string> = {
  [orchestratorV1.RunStatus.UNSPECIFIED]: 'unknown',
  [orchestratorV1.RunStatus.QUEUED]: 'queued',
  [orchestratorV1.RunStatus.RUNNING]: 'running',
  [orchestratorV1.RunStatus.COMPLETED]: 'completed',
  [orchestratorV1.RunStatus.FAILED]: 'failed',
  [orchestratorV1.RunStatus.CANCELLED]: 'cancelled',
};

// The public API over the services' subjects; every call is scoped to the key's team.
@Injectable()
export class PlatformApiService {
  constructor(private readonly rpc: NatsRpcClient) {}

  async createApp(principal: Principal, body: z.infer<typeof createAppBody>) {
    return appJson(await this.rpc.send(Rpc.appCreate, { teamId: principal.teamId, ...body }, { timeoutMs: 30_000 }));
  }

  async listApps(principal: Principal, query: z.infer<typeof listAppsQuery>) {
    const page = await this.rpc.send(Rpc.appList, { teamId: principal.teamId, pageSize: query.limit, pageToken: query.cursor });
    return { data: page.apps.map(appJson), nextCursor: page.nextPageToken || null };
  }

  async getApp(principal: Principal, appId: string) {
    return appJson(await this.rpc.send(Rpc.appGet, { teamId: principal.teamId, appId }));
  }

  async postMessage(principal: Principal, appId: string, content: string) {
    const posted = await this.rpc.send(Rpc.messagePost, { teamId: principal.teamId, appId, content, authorId: principal.keyId });
    return { messageId: posted.messageId, runId: posted.runId, runUrl: `/api/runs/${posted.runId}`, eventsUrl: `/api/runs/${posted.runId}/events` };
  }

  async getRun(principal: Principal, runId: string) {
    const run = await this.rpc.send(Rpc.runGet, { teamId: principal.teamId, runId });
    return {
      id: run.id,
      appId: run.appId,
      status: RUN_STATUS_NAMES[run.status],
      error: run.errorCode ? { code: run.errorCode, message: run.errorMessage } : null,
      commitSha: run.commitSha || null,
      iterations: run.iterations,
      createdAt: run.createdAt,
      finishedAt: run.finishedAt || null,
      steps: run.steps.map((s) => ({ seq: s.seq, kind: s.kind, summary: s.summary, createdAt: s.createdAt })),
    };
  }
}

function appJson(app: orchestratorV1.App) {
  return { id: app.id, name: app.name, description: app.description, template: app.template, createdAt: app.createdAt, updatedAt: app.updatedAt };
}
