import { Rpc, taskView, type orchestratorV1 } from '@overskill/contracts';
import { readFileSync } from 'node:fs';
import type { CliContext } from '../cli-context';
import { CliError } from '../cli-context';

type Flags = Record<string, string | true>;

// Creating a project asks GitHub first; that can take a few seconds.
const CHECK_TIMEOUT_MS = 30_000;

function team(flags: Flags, command: string): string {
  if (typeof flags.team !== 'string') throw new CliError(`${command} needs --team <team id>`);
  return flags.team;
}

function projectLine(p: orchestratorV1.Project): string {
  const auth = p.authKind === 'app' ? `app ${p.githubAppId} installation ${p.installationId}` : 'token';
  return `${p.id}  ${p.repository.padEnd(40)} ${auth.padEnd(30)} trigger "${p.labels?.trigger ?? ''}", ${p.answerMode}, concurrency ${p.concurrency}`;
}

function projectJson(p: orchestratorV1.Project) {
  return {
    id: p.id,
    repository: p.repository,
    auth: p.authKind,
    githubAppId: Number(p.githubAppId) || null,
    installationId: Number(p.installationId) || null,
    labels: p.labels,
    priorityLabels: p.priorityLabels.map((l) => ({ label: l.label, priority: l.priority })),
    baseBranch: p.baseBranch,
    answerMode: p.answerMode,
    concurrency: p.concurrency,
    permissions: p.permissions,
  };
}

// `projects list --team <id>`
export async function projectsList(ctx: CliContext, flags: Flags): Promise<string> {
  const page = await ctx.rpc.send(Rpc.projectList, { teamId: team(flags, 'projects list'), pageSize: 100, pageToken: '' });
  if (flags.json) return JSON.stringify(page.projects.map(projectJson));
  return page.projects.length > 0 ? page.projects.map(projectLine).join('\n') : 'no projects';
}

// `projects add --team <id> --repo owner/name` with a token read from an environment variable
// (never a flag: flags end up in shell history and process lists), or a GitHub App.
export async function projectsAdd(ctx: CliContext, flags: Flags): Promise<string> {
  const teamId = team(flags, 'projects add');
  if (typeof flags.repo !== 'string') throw new CliError('projects add needs --repo owner/name');
  let auth: { authKind: string; token?: string; githubAppId?: bigint; installationId?: bigint; privateKey?: string };
  if (flags['app-id'] !== undefined) {
    if (typeof flags['installation-id'] !== 'string' || typeof flags['private-key-file'] !== 'string') {
      throw new CliError('a GitHub App needs --app-id, --installation-id and --private-key-file <pem>');
    }
    let privateKey: string;
    try {
      privateKey = readFileSync(flags['private-key-file'], 'utf8');
    } catch {
      throw new CliError(`cannot read ${flags['private-key-file']}`);
    }
    auth = { authKind: 'app', githubAppId: BigInt(Number(flags['app-id']) || 0), installationId: BigInt(Number(flags['installation-id']) || 0), privateKey };
  } else {
    const variable = typeof flags['token-env'] === 'string' ? flags['token-env'] : 'GITHUB_TOKEN';
    const token = process.env[variable];
    if (!token) throw new CliError(`set ${variable} to the GitHub token (or name another variable with --token-env, or use --app-id)`);
    auth = { authKind: 'token', token };
  }
  const created = await ctx.rpc.send(
    Rpc.projectCreate,
    {
      teamId,
      repository: flags.repo,
      ...auth,
      baseBranch: typeof flags.base === 'string' ? flags.base : '',
      answerMode: typeof flags.answer === 'string' ? flags.answer : '',
      concurrency: typeof flags.concurrency === 'string' ? Number(flags.concurrency) : 0,
    },
    { timeoutMs: CHECK_TIMEOUT_MS },
  );
  return flags.json ? JSON.stringify(projectJson(created)) : `added ${projectLine(created)}\ngranted: ${created.permissions.join(', ')}`;
}

// `projects remove <projectId> --team <id>`
export async function projectsRemove(ctx: CliContext, projectId: string | undefined, flags: Flags): Promise<string> {
  if (!projectId) throw new CliError('projects remove needs a project id');
  const removed = await ctx.rpc.send(Rpc.projectDelete, { teamId: team(flags, 'projects remove'), projectId });
  return flags.json ? JSON.stringify({ id: removed.projectId, deleted: true }) : `removed project ${removed.projectId}`;
}


export function taskLine(t: orchestratorV1.Task): string {
  return `${t.id}  ${`${t.repository}#${t.issueNumber}`.padEnd(32)} ${t.status.padEnd(18)} priority ${String(t.priority).padEnd(4)} ${t.title.slice(0, 60)}`;
}

// `tasks list --team <id> [--project <id>]`: a project's tasks, or the team's queued and running ones.
export async function tasksList(ctx: CliContext, flags: Flags): Promise<string> {
  const teamId = team(flags, 'tasks list');
  const tasks =
    typeof flags.project === 'string'
      ? (await ctx.rpc.send(Rpc.taskList, { teamId, projectId: flags.project, pageSize: 100, pageToken: '' })).tasks
      : (await ctx.rpc.send(Rpc.taskRunning, { teamId })).tasks;
  if (flags.json) return JSON.stringify(tasks.map(taskView));
  return tasks.length > 0 ? tasks.map(taskLine).join('\n') : 'no tasks';
}

// `tasks show <taskId> --team <id>`
export async function tasksShow(ctx: CliContext, taskId: string | undefined, flags: Flags): Promise<string> {
  if (!taskId) throw new CliError('tasks show needs a task id');
  const t = await ctx.rpc.send(Rpc.taskGet, { teamId: team(flags, 'tasks show'), taskId });
  if (flags.json) return JSON.stringify(taskView(t));
  const answer = t.answerUrl ? `answer ${t.answerUrl}` : t.errorMessage ? `failed: ${t.errorMessage} (${t.errorCode})` : '';
  return [taskLine(t), `branch ${t.branch}, ${t.pendingFollowUps} follow-up(s) waiting, ${t.attempts} attempt(s), created ${t.createdAt}`, ...(answer ? [answer] : [])].join('\n');
}

// `github rate-limit --team <id> --project <id>`: the seed's `curl …/rate_limit`, with the project's credentials.
export async function githubRateLimit(ctx: CliContext, flags: Flags): Promise<string> {
  if (typeof flags.project !== 'string') throw new CliError('github rate-limit needs --project <project id>');
  const q = await ctx.rpc.send(Rpc.githubRateLimit, { teamId: team(flags, 'github rate-limit'), projectId: flags.project }, { timeoutMs: CHECK_TIMEOUT_MS });
  if (flags.json) return JSON.stringify({ account: q.account, limit: q.limit, remaining: q.remaining, used: q.used, resetAt: q.resetAt });
  return `${q.account}: ${q.remaining} of ${q.limit} requests left (${q.used} used), resets at ${q.resetAt}`;
}
