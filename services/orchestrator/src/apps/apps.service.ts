import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, Rpc, isEntityId } from '@overskill/contracts';
import { NatsRpcClient, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { randomUUID } from 'node:crypto';
import type { AppEntity } from '../persistence/entities';
import { AppsRepository } from './apps.repository';

const TEMPLATES = new Set(['empty', 'static-web', 'vite-react']);

@Injectable()
export class AppsService {
  constructor(
    private readonly apps: AppsRepository,
    private readonly rpc: NatsRpcClient,
  ) {}

  async create(req: RpcRequest<typeof Rpc.appCreate>): Promise<RpcReply<typeof Rpc.appCreate>> {
    const name = req.name.trim();
    if (!name || name.length > 200) throw new AppError(ErrorCode.VALIDATION_FAILED, 'name must be 1 to 200 characters');
    const template = req.template || 'static-web';
    if (!TEMPLATES.has(template)) throw new AppError(ErrorCode.VALIDATION_FAILED, `template must be one of ${[...TEMPLATES].join(', ')}`);
    const app = await this.apps.insert({ id: randomUUID(), teamId: req.teamId, name, description: req.description, template });
    try {
      await this.rpc.send(Rpc.gitRepoInit, { appId: app.id, template });
    } catch (err) {
      // No app without a repository: undo the row, report the cause.
      await this.apps.delete(app.id);
      throw err;
    }
    return toApp(app);
  }

  async get(req: RpcRequest<typeof Rpc.appGet>): Promise<RpcReply<typeof Rpc.appGet>> {
    return toApp(await this.requireApp(req.teamId, req.appId));
  }

  async list(req: RpcRequest<typeof Rpc.appList>): Promise<RpcReply<typeof Rpc.appList>> {
    const limit = Math.min(Math.max(req.pageSize || 20, 1), 100);
    const after = decodePageToken(req.pageToken);
    const rows = await this.apps.listForTeam(req.teamId, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { apps: page.map(toApp), nextPageToken: rows.length > limit && last ? encodePageToken(last) : '' };
  }

  // Internal (git-service's orphan cleanup), across teams; ids that aren't uuids simply don't exist.
  async idsExist(req: RpcRequest<typeof Rpc.appIdsExist>): Promise<RpcReply<typeof Rpc.appIdsExist>> {
    if (req.appIds.length > 1000) throw new AppError(ErrorCode.VALIDATION_FAILED, 'app_ids takes at most 1000 ids per call');
    const ids = [...new Set(req.appIds.filter((id) => isEntityId(id)))];
    return { existingAppIds: ids.length > 0 ? await this.apps.existingIds(ids) : [] };
  }

  async requireApp(teamId: string, appId: string): Promise<AppEntity> {
    const app = isEntityId(appId) ? await this.apps.findForTeam(teamId, appId) : null;
    if (!app) throw new AppError(ErrorCode.APP_NOT_FOUND, `App ${appId.slice(0, 64)} not found`);
    return app;
  }
}

function toApp(app: AppEntity): RpcReply<typeof Rpc.appGet> {
  return {
    id: app.id,
    teamId: app.teamId,
    name: app.name,
    description: app.description,
    template: app.template,
    createdAt: app.createdAt.toISOString(),
    updatedAt: app.updatedAt.toISOString(),
  };
}

function encodePageToken(app: AppEntity): string {
  return Buffer.from(`${app.createdAt.toISOString()}|${app.id}`).toString('base64url');
}

function decodePageToken(token: string): { createdAt: Date; id: string } | undefined {
  if (!token) return undefined;
  const [createdAt, id] = Buffer.from(token, 'base64url').toString('utf8').split('|');
  const date = new Date(createdAt ?? '');
  if (!id || !isEntityId(id) || Number.isNaN(date.getTime())) throw new AppError(ErrorCode.VALIDATION_FAILED, 'page_token is not valid; pass the token from the previous page');
  return { createdAt: date, id };
}
