import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, isEntityId, type Rpc } from '@overskill/contracts';
import type { RpcReply, RpcRequest } from '@overskill/messaging';
import { randomUUID } from 'node:crypto';
import { decodePageToken, pageSize, paginate } from '../common/page-token';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import { GitHubRepository, type GitHubAuth } from '../github/github.repository';
import type { ProjectEntity, ProjectLabelSet } from '../persistence/entities';
import { ProjectsRepository } from './projects.repository';
import { SecretBox } from './secret-box';

export const DEFAULT_LABELS: ProjectLabelSet = {
  trigger: 'overskill',
  processing: 'processing',
  awaitingResponse: 'awaiting-response',
  completed: 'completed',
  failed: 'failed',
};
// PoppoBuilder's order.
export const DEFAULT_PRIORITY_LABELS = [
  { label: 'urgent', priority: 100 },
  { label: 'high', priority: 75 },
  { label: 'normal', priority: 50 },
  { label: 'low', priority: 25 },
];
const ANSWER_MODES = new Set(['pull_request', 'comment', 'auto']);
const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;
const LABEL_MAX = 50;

type ProjectReply = RpcReply<typeof Rpc.projectGet>;
type LabelsInput = { trigger: string; processing: string; awaitingResponse: string; completed: string; failed: string } | undefined;

@Injectable()
export class ProjectsService {
  private readonly box: SecretBox;

  constructor(
    @Inject(ORCHESTRATOR_ENV) env: OrchestratorEnv,
    private readonly projects: ProjectsRepository,
    private readonly github: GitHubRepository,
  ) {
    this.box = new SecretBox(env.PROJECT_SECRET_KEYS);
  }

  // Everything is validated and the credentials are checked on GitHub before a row is written.
  async create(req: RpcRequest<typeof Rpc.projectCreate>): Promise<ProjectReply> {
    const repository = req.repository.trim();
    if (!REPOSITORY.test(repository)) throw invalid('repository must be owner/name as on GitHub');
    const auth = credentials(req.authKind, {
      token: req.token,
      appId: Number(req.githubAppId),
      privateKey: req.privateKey,
      installationId: Number(req.installationId),
    });
    const settings = {
      labels: labelsFrom(req.labels, DEFAULT_LABELS),
      priorityLabels: priorityLabelsFrom(req.priorityLabels),
      baseBranch: branchFrom(req.baseBranch || 'main'),
      answerMode: answerModeFrom(req.answerMode || 'auto'),
      concurrency: concurrencyFrom(req.concurrency || 2),
    };
    this.box.requireConfigured();
    const permissions = await this.checkAccess(auth, repository);
    const id = randomUUID();
    const row = await this.projects.insert({
      id,
      teamId: req.teamId,
      repository,
      authKind: auth.kind,
      githubAppId: String(auth.kind === 'app' ? auth.appId : 0),
      installationId: String(auth.kind === 'app' ? auth.installationId : 0),
      secret: this.box.seal(auth.kind === 'app' ? auth.privateKey : auth.token, secretContext(id)),
      permissions,
      pollEtag: null,
      polledAt: null,
      ...settings,
    });
    if (!row) throw new AppError(ErrorCode.PROJECT_EXISTS, `This team already has a project for ${repository}`);
    return toProject(row);
  }

  async get(req: RpcRequest<typeof Rpc.projectGet>): Promise<ProjectReply> {
    return toProject(await this.require(req.teamId, req.projectId));
  }

  async list(req: RpcRequest<typeof Rpc.projectList>): Promise<RpcReply<typeof Rpc.projectList>> {
    const limit = pageSize(req.pageSize);
    const rows = await this.projects.listForTeam(req.teamId, limit + 1, decodePageToken(req.pageToken));
    const { page, nextPageToken } = paginate(rows, limit);
    return { projects: page.map(toProject), nextPageToken };
  }

  async update(req: RpcRequest<typeof Rpc.projectUpdate>): Promise<ProjectReply> {
    const project = await this.require(req.teamId, req.projectId);
    const fields: Partial<ProjectEntity> = {};
    if (req.labels) fields.labels = labelsFrom(req.labels, project.labels);
    if (req.replacePriorityLabels) fields.priorityLabels = priorityLabelsFrom(req.priorityLabels);
    if (req.baseBranch !== undefined) fields.baseBranch = branchFrom(req.baseBranch);
    if (req.answerMode !== undefined) fields.answerMode = answerModeFrom(req.answerMode);
    if (req.concurrency !== undefined) fields.concurrency = concurrencyFrom(req.concurrency);
    const newSecret = project.authKind === 'app' ? req.privateKey : req.token;
    if ((project.authKind === 'app' ? req.token : req.privateKey) !== undefined) {
      throw invalid(`this project authenticates with ${project.authKind === 'app' ? 'a GitHub App: send private_key' : 'a token: send token'}`);
    }
    if (newSecret !== undefined) {
      const auth = credentials(project.authKind, {
        token: newSecret,
        appId: Number(project.githubAppId),
        privateKey: newSecret,
        installationId: Number(project.installationId),
      });
      fields.permissions = await this.checkAccess(auth, project.repository);
      fields.secret = this.box.seal(newSecret, secretContext(project.id));
    }
    const updated = await this.projects.update(req.teamId, req.projectId, fields);
    if (!updated) throw notFound(req.projectId);
    return toProject(updated);
  }

  async delete(req: RpcRequest<typeof Rpc.projectDelete>): Promise<RpcReply<typeof Rpc.projectDelete>> {
    if (!isEntityId(req.projectId) || !(await this.projects.delete(req.teamId, req.projectId))) throw notFound(req.projectId);
    return { projectId: req.projectId };
  }

  async rateLimit(req: RpcRequest<typeof Rpc.githubRateLimit>): Promise<RpcReply<typeof Rpc.githubRateLimit>> {
    const project = await this.require(req.teamId, req.projectId);
    const q = await this.github.rateLimit(this.authOf(project), project.repository);
    return { account: q.account, limit: q.limit, remaining: q.remaining, used: q.used, resetAt: new Date(q.resetAt).toISOString() };
  }

  // The credentials of a stored project, for the GitHub calls its tasks make.
  authOf(project: ProjectEntity): GitHubAuth {
    const secret = this.box.open(project.secret, secretContext(project.id));
    return project.authKind === 'app'
      ? { kind: 'app', appId: Number(project.githubAppId), installationId: Number(project.installationId), privateKey: secret }
      : { kind: 'token', token: secret };
  }

  private async checkAccess(auth: GitHubAuth, repository: string): Promise<string[]> {
    const access = await this.github.checkAccess(auth, repository);
    if (access.missing.length > 0) {
      throw new AppError(
        ErrorCode.GITHUB_PERMISSION_MISSING,
        `The ${auth.kind === 'app' ? 'app installation' : 'token'} lacks ${access.missing.join(', ')} on ${repository}; grant ${access.missing.length > 1 ? 'them' : 'it'} and try again`,
        { missing: access.missing.join(',') },
      );
    }
    return access.granted;
  }

  private async require(teamId: string, id: string): Promise<ProjectEntity> {
    const project = isEntityId(id) ? await this.projects.findForTeam(teamId, id) : null;
    if (!project) throw notFound(id);
    return project;
  }
}

function secretContext(projectId: string): string {
  return `project:${projectId}:secret`;
}

function credentials(kind: string, input: { token: string; appId: number; privateKey: string; installationId: number }): GitHubAuth {
  if (kind === 'token') {
    const token = input.token.trim();
    if (!token || token.length > 255 || /\s/.test(token)) throw invalid('token must be a GitHub token (1 to 255 characters, no spaces)');
    return { kind, token };
  }
  if (kind === 'app') {
    if (!Number.isSafeInteger(input.appId) || input.appId <= 0) throw invalid('github_app_id must be the GitHub App id');
    if (!Number.isSafeInteger(input.installationId) || input.installationId <= 0)
      throw invalid('installation_id must be the id of the app installation on the repository');
    if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(input.privateKey) || input.privateKey.length > 10_000)
      throw invalid("private_key must be the app's private key in PEM");
    return { kind, appId: input.appId, installationId: input.installationId, privateKey: input.privateKey };
  }
  throw invalid('auth_kind must be token or app');
}

function labelsFrom(input: LabelsInput, base: ProjectLabelSet): ProjectLabelSet {
  const labels = { ...base };
  for (const key of Object.keys(DEFAULT_LABELS) as Array<keyof ProjectLabelSet>) {
    const value = input?.[key]?.trim();
    if (value) labels[key] = label(value, `labels.${key}`);
  }
  if (new Set(Object.values(labels)).size !== Object.keys(labels).length) throw invalid('labels must be five different labels');
  return labels;
}

function priorityLabelsFrom(input: Array<{ label: string; priority: number }>): Array<{ label: string; priority: number }> {
  if (input.length === 0) return DEFAULT_PRIORITY_LABELS.map((p) => ({ ...p }));
  if (input.length > 20) throw invalid('priority_labels takes at most 20 labels');
  const seen = new Set<string>();
  return input.map((p) => {
    const name = label(p.label.trim(), 'priority_labels.label');
    if (seen.has(name)) throw invalid(`priority label ${name} is listed twice`);
    seen.add(name);
    if (!Number.isInteger(p.priority) || p.priority < 0 || p.priority > 1000) throw invalid('priority_labels.priority must be 0 to 1000');
    return { label: name, priority: p.priority };
  });
}

function label(value: string, field: string): string {
  if (!value || value.length > LABEL_MAX || value.includes(',')) throw invalid(`${field} must be 1 to ${LABEL_MAX} characters without commas`);
  return value;
}

function branchFrom(raw: string): string {
  const branch = raw.trim();
  if (
    !branch ||
    branch.length > 255 ||
    !/^[A-Za-z0-9._/-]+$/.test(branch) ||
    branch.includes('..') ||
    branch.startsWith('/') ||
    branch.endsWith('/') ||
    branch.endsWith('.lock')
  ) {
    throw invalid('base_branch must be a branch name');
  }
  return branch;
}

function answerModeFrom(raw: string): string {
  if (!ANSWER_MODES.has(raw)) throw invalid('answer_mode must be pull_request, comment or auto');
  return raw;
}

function concurrencyFrom(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 64) throw invalid('concurrency must be 1 to 64');
  return value;
}

function invalid(message: string): AppError {
  return new AppError(ErrorCode.VALIDATION_FAILED, message);
}

function notFound(id: string): AppError {
  return new AppError(ErrorCode.PROJECT_NOT_FOUND, `Project ${id.slice(0, 64)} not found`);
}

function toProject(p: ProjectEntity): ProjectReply {
  return {
    id: p.id,
    teamId: p.teamId,
    repository: p.repository,
    authKind: p.authKind,
    githubAppId: BigInt(p.githubAppId),
    installationId: BigInt(p.installationId),
    labels: p.labels,
    priorityLabels: p.priorityLabels,
    baseBranch: p.baseBranch,
    answerMode: p.answerMode,
    concurrency: p.concurrency,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
    permissions: p.permissions,
  };
}
