import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type gitV1, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { Counter } from 'prom-client';
import { GitRepositoryRepository } from './git-repository.repository';
import { REPO_TEMPLATES } from './repo-templates';

const APP_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const AGENT = { name: 'overskill agent', email: 'agent@overskill.local' };

@Injectable()
export class RepoService {
  private readonly operations: Counter<'operation' | 'outcome'>;

  constructor(
    private readonly repos: GitRepositoryRepository,
    @Inject(SERVICE_METRICS) metrics: ServiceMetrics,
  ) {
    this.operations = new Counter({ name: 'git_operations_total', help: 'Git operations by outcome', labelNames: ['operation', 'outcome'], registers: [metrics.registry] });
  }

  async init(req: RpcRequest<typeof Rpc.gitRepoInit>): Promise<RpcReply<typeof Rpc.gitRepoInit>> {
    return this.count('init', async () => {
      assertAppId(req.appId);
      const files = REPO_TEMPLATES[req.template || 'empty'];
      if (!files) throw new AppError(ErrorCode.GIT_TEMPLATE_UNKNOWN, `Unknown template "${req.template}"; use one of ${Object.keys(REPO_TEMPLATES).join(', ')}`);
      if (await this.repos.exists(req.appId)) throw new AppError(ErrorCode.GIT_REPO_EXISTS, `App ${req.appId} already has a repository`);
      return { headSha: await this.repos.init(req.appId, files, AGENT) };
    });
  }

  async commit(req: RpcRequest<typeof Rpc.gitRepoCommit>): Promise<RpcReply<typeof Rpc.gitRepoCommit>> {
    return this.count('commit', async () => {
      await this.assertRepo(req.appId);
      const message = req.message.trim() || 'Update';
      const author = { name: req.authorName || AGENT.name, email: req.authorEmail || AGENT.email };
      const commit = await this.repos.commitAll(req.appId, message, author);
      if (!commit) return { sha: await this.repos.head(req.appId), created: false, filesChanged: 0 };
      return { sha: commit.sha, created: true, filesChanged: commit.filesChanged };
    });
  }

  async log(req: RpcRequest<typeof Rpc.gitRepoLog>): Promise<RpcReply<typeof Rpc.gitRepoLog>> {
    return this.count('log', async () => {
      await this.assertRepo(req.appId);
      const limit = Math.min(Math.max(req.limit || 50, 1), 1000);
      const commits: gitV1.Commit[] = (await this.repos.log(req.appId, limit)).map((c) => ({ $typeName: 'overskill.git.v1.Commit', ...c }));
      return { commits };
    });
  }

  private async assertRepo(appId: string): Promise<void> {
    assertAppId(appId);
    if (!(await this.repos.exists(appId))) throw new AppError(ErrorCode.GIT_REPO_NOT_FOUND, `App ${appId} has no repository`);
  }

  private async count<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      this.operations.inc({ operation, outcome: 'ok' });
      return result;
    } catch (err) {
      this.operations.inc({ operation, outcome: err instanceof AppError ? err.code : ErrorCode.INTERNAL });
      throw err;
    }
  }
}

function assertAppId(appId: string): void {
  if (!APP_ID.test(appId)) throw new AppError(ErrorCode.GIT_REPO_NOT_FOUND, `"${appId.slice(0, 64)}" is not an app id`);
}
