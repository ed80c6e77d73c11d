import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, Rpc, isEntityId, orchestratorV1 } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { LOGGER } from '@overskill/observability';
import { LeveledCache } from '@overskill/persistence';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { decodePageToken, pageSize, paginate } from '../common/page-token';
import { requireTeamId } from '../common/team-id.pipe';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import { GitServiceRepository } from '../delegation/git-service.repository';
import type { AppEntity } from '../persistence/entities';
import { AppFileTree } from '../runs/app-file-tree';
import { RunQueueRepository } from '../runs/run-queue.repository';
import { AppsRepository, type AppListRow } from './apps.repository';

const TEMPLATES = new Set(['empty', 'static-web', 'vite-react']);
const DESCRIPTION_MAX = 2000;

@Injectable()
export class AppsService {
  constructor(
    @Inject(ORCHESTRATOR_ENV) private readonly env: OrchestratorEnv,
    private readonly apps: AppsRepository,
    private readonly queue: RunQueueRepository,
    private readonly git: GitServiceRepository,
    private readonly files: AppFileTree,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly cache: LeveledCache,
  ) {}

  async create(req: RpcRequest<typeof Rpc.appCreate>): Promise<RpcReply<typeof Rpc.appCreate>> {
    requireTeamId(req.teamId);
    const name = validName(req.name);
    if (req.description.length > DESCRIPTION_MAX) throw new AppError(ErrorCode.VALIDATION_FAILED, `description must be at most ${DESCRIPTION_MAX} characters`);
    const template = req.template || 'static-web';
    if (!TEMPLATES.has(template)) throw new AppError(ErrorCode.VALIDATION_FAILED, `template must be one of ${[...TEMPLATES].join(', ')}`);
    const app = await this.apps.insert({ id: randomUUID(), teamId: req.teamId, name, description: req.description, template });
    try {
      const caller = { teamId: req.teamId, appId: app.id };
      const repo = await this.git.init(caller, template);
      await this.apps.setInitSha(app.id, repo.headSha);
      app.initSha = repo.headSha;
      await this.files.seed(caller, repo.files);
    } catch (err) {
      // No app without a repository: undo the row, report the cause.
      await this.apps.delete(app.id);
      throw err;
    } finally {
      // Before the reply, also after an undo: a list read in between may have seen the row.
      await this.cache.dropTeamApps(req.teamId);
    }
    return toApp(app);
  }

  async get(req: RpcRequest<typeof Rpc.appGet>): Promise<RpcReply<typeof Rpc.appGet>> {
    requireTeamId(req.teamId);
    return toApp(await this.requireApp(req.teamId, req.appId));
  }

  async list(req: RpcRequest<typeof Rpc.appList>): Promise<RpcReply<typeof Rpc.appList>> {
    requireTeamId(req.teamId);
    const limit = pageSize(req.pageSize);
    const rows = await this.apps.listForTeam(req.teamId, limit + 1, decodePageToken(req.pageToken));
    const { page, nextPageToken } = paginate(rows, limit);
    // The repository's items are already the reply's shape.
    return { apps: page, nextPageToken };
  }

  // Only the fields that are set change; everything is validated before anything is written.
  async update(req: RpcRequest<typeof Rpc.appUpdate>): Promise<RpcReply<typeof Rpc.appUpdate>> {
    requireTeamId(req.teamId);
    const fields: Partial<Pick<AppEntity, 'name' | 'description' | 'maxIterations'>> = {};
    if (req.name !== undefined) fields.name = validName(req.name);
    if (req.description !== undefined) {
      if (req.description.length > DESCRIPTION_MAX)
        throw new AppError(ErrorCode.VALIDATION_FAILED, `description must be at most ${DESCRIPTION_MAX} characters`);
      fields.description = req.description;
    }
    if (req.maxIterations !== undefined) {
      const max = 200;
      if (!Number.isInteger(req.maxIterations) || req.maxIterations < 0 || req.maxIterations > max) {
        throw new AppError(ErrorCode.VALIDATION_FAILED, `max_iterations must be 0 (the service default, ${this.env.RUN_MAX_ITERATIONS}) to ${max}`);
      }
      fields.maxIterations = req.maxIterations;
    }
    await this.requireApp(req.teamId, req.appId);
    const app = await this.apps.update(req.teamId, req.appId, fields);
    if (!app) throw appNotFound(req.appId);
    await this.cache.dropApp(req.appId);
    await this.cache.dropTeamApps(req.teamId);
    return toApp(app);
  }

  // The app, its messages, runs and steps go in one transaction. Runs that had not finished
  // stop: their loop finds the run gone at its next checkpoint, and their live listeners get
  // a final event now. The repository is removed later by git-service's orphan cleanup.
  async delete(req: RpcRequest<typeof Rpc.appDelete>): Promise<RpcReply<typeof Rpc.appDelete>> {
    requireTeamId(req.teamId);
    if (!isEntityId(req.appId)) throw appNotFound(req.appId);
    const open = await this.apps.deleteWithHistory(req.teamId, req.appId);
    if (!open) throw appNotFound(req.appId);
    await this.cache.dropApp(req.appId);
    await this.cache.dropTeamApps(req.teamId);
    const summary = `The app was deleted; the run stopped (${ErrorCode.RUN_APP_DELETED})`;
    for (const run of open) {
      this.queue.publishProgress({
        runId: run.id,
        seq: run.lastSeq + 1,
        kind: 'run_cancelled',
        summary,
        status: orchestratorV1.RunStatus.CANCELLED,
        createdAt: new Date().toISOString(),
      });
      await this.queue
        .publishFinished({
          runId: run.id,
          appId: req.appId,
          teamId: req.teamId,
          status: orchestratorV1.RunStatus.CANCELLED,
          iterations: 0,
          commitSha: '',
          errorCode: ErrorCode.RUN_APP_DELETED,
        })
        .catch((err: unknown) => this.logger.warn({ err, runId: run.id }, 'could not publish run.finished for a deleted app'));
    }
    return { appId: req.appId };
  }

  // Internal (git-service's orphan cleanup), across teams; ids that aren't uuids simply don't exist.
  async idsExist(req: RpcRequest<typeof Rpc.appIdsExist>): Promise<RpcReply<typeof Rpc.appIdsExist>> {
    if (req.appIds.length > 1000) throw new AppError(ErrorCode.VALIDATION_FAILED, 'app_ids takes at most 1000 ids per call');
    const ids = [...new Set(req.appIds.filter((id) => isEntityId(id)))];
    return { existingAppIds: ids.length > 0 ? await this.apps.existingIds(ids) : [] };
  }

  async requireApp(teamId: string, appId: string): Promise<AppEntity> {
    const app = isEntityId(appId) ? await this.apps.findForTeam(teamId, appId) : null;
    if (!app) throw appNotFound(appId);
    return app;
  }
}

export function appNotFound(appId: string): AppError {
  return new AppError(ErrorCode.APP_NOT_FOUND, `App ${appId.slice(0, 64)} not found`);
}

function validName(raw: string): string {
  const name = raw.trim();
  if (!name || name.length > 200) throw new AppError(ErrorCode.VALIDATION_FAILED, 'name must be 1 to 200 characters');
  return name;
}

function toApp(app: AppListRow): RpcReply<typeof Rpc.appGet> {
  return {
    id: app.id,
    teamId: app.teamId,
    name: app.name,
    description: app.description,
    template: app.template,
    createdAt: app.createdAt.toISOString(),
    updatedAt: app.updatedAt.toISOString(),
    maxIterations: app.maxIterations,
  };
}
