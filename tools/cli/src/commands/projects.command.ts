import { Rpc, taskView, type orchestratorV1 } from '@overskill/contracts';
import { readFileSync } from 'node:fs';
import { CliError } from '../cli-context';
import { defineCommand } from '../command';

// Creating a project asks GitHub first; that can take a few seconds.
const CHECK_TIMEOUT_MS = 30_000;

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
export const projectsList = defineCommand({
  words: ['projects', 'list'],
  help: "  projects list --team <id> [--json]      The team's GitHub projects (never their credentials)",
  options: { team: { type: 'string', required: true } },
  async run(ctx, flags) {
    const page = await ctx.rpc.send(Rpc.projectList, { teamId: flags.team, pageSize: 100, pageToken: '' });
    if (flags.json) return JSON.stringify(page.projects.map(projectJson));
    return page.projects.length > 0 ? page.projects.map(projectLine).join('\n') : 'no projects';
  },
});

// `projects add --team <id> --repo owner/name` with a token read from an environment variable
// (never a flag: flags end up in shell history and process lists), or a GitHub App.
export const projectsAdd = defineCommand({
  words: ['projects', 'add'],
  help: `  projects add --team <id> --repo <o/n>   Add a project; the token is read from $GITHUB_TOKEN (or --token-env <VAR>),
               [--app-id <n> --installation-id <n> --private-key-file <pem>]  or a GitHub App installation;
               [--base <branch>] [--answer pull_request|comment|auto] [--concurrency <n>] [--json]`,
  options: {
    team: { type: 'string', required: true },
    repo: { type: 'string', required: true },
    'token-env': { type: 'string' },
    'app-id': { type: 'string' },
    'installation-id': { type: 'string' },
    'private-key-file': { type: 'string' },
    base: { type: 'string' },
    answer: { type: 'string' },
    concurrency: { type: 'string' },
  },
  async run(ctx, flags) {
    const teamId = flags.team;
    let auth: { authKind: string; token?: string; githubAppId?: bigint; installationId?: bigint; privateKey?: string };
    if (flags['app-id'] !== undefined) {
      if (flags['installation-id'] === undefined || flags['private-key-file'] === undefined) {
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
      const variable = flags['token-env'] ?? 'GITHUB_TOKEN';
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
        baseBranch: flags.base ?? '',
        answerMode: flags.answer ?? '',
        concurrency: flags.concurrency !== undefined ? Number(flags.concurrency) : 0,
      },
      { timeoutMs: CHECK_TIMEOUT_MS },
    );
    return flags.json ? JSON.stringify(projectJson(created)) : `added ${projectLine(created)}\ngranted: ${created.permissions.join(', ')}`;
  },
});

// `projects remove <projectId> --team <id>`
export const projectsRemove = defineCommand({
  words: ['projects', 'remove'],
  help: '  projects remove <projectId> --team <id> Remove a project (and its tasks)',
  options: { team: { type: 'string', required: true } },
  positionals: { min: 1, max: 1 },
  async run(ctx, flags, [projectId = '']) {
    const removed = await ctx.rpc.send(Rpc.projectDelete, { teamId: flags.team, projectId });
    return flags.json ? JSON.stringify({ id: removed.projectId, deleted: true }) : `removed project ${removed.projectId}`;
  },
});

export function taskLine(t: orchestratorV1.Task): string {
  return `${t.id}  ${`${t.repository}#${t.issueNumber}`.padEnd(32)} ${t.status.padEnd(18)} priority ${String(t.priority).padEnd(4)} ${t.title.slice(0, 60)}`;
}

// `tasks list --team <id> [--project <id>]`: a project's tasks, or the team's queued and running ones.
export const tasksList = defineCommand({
  words: ['tasks', 'list'],
  help: `  tasks list --team <id> [--project <id>] A project's tasks, or the team's queued and running tasks
             [--json]`,
  options: { team: { type: 'string', required: true }, project: { type: 'string' } },
  async run(ctx, flags) {
    const teamId = flags.team;
    const tasks =
      flags.project !== undefined
        ? (await ctx.rpc.send(Rpc.taskList, { teamId, projectId: flags.project, pageSize: 100, pageToken: '' })).tasks
        : (await ctx.rpc.send(Rpc.taskRunning, { teamId })).tasks;
    if (flags.json) return JSON.stringify(tasks.map(taskView));
    return tasks.length > 0 ? tasks.map(taskLine).join('\n') : 'no tasks';
  },
});

// `tasks show <taskId> --team <id>`
export const tasksShow = defineCommand({
  words: ['tasks', 'show'],
  help: '  tasks show <taskId> --team <id> [--json] One task',
  options: { team: { type: 'string', required: true } },
  positionals: { min: 1, max: 1 },
  async run(ctx, flags, [taskId = '']) {
    const t = await ctx.rpc.send(Rpc.taskGet, { teamId: flags.team, taskId });
    if (flags.json) return JSON.stringify(taskView(t));
    const answer = t.answerUrl ? `answer ${t.answerUrl}` : t.errorMessage ? `failed: ${t.errorMessage} (${t.errorCode})` : '';
    return [
      taskLine(t),
      `branch ${t.branch}, ${t.pendingFollowUps} follow-up(s) waiting, ${t.attempts} attempt(s), created ${t.createdAt}`,
      ...(answer ? [answer] : []),
    ].join('\n');
  },
});

// `github rate-limit --team <id> --project <id>`: the seed's `curl …/rate_limit`, with the project's credentials.
export const githubRateLimit = defineCommand({
  words: ['github', 'rate-limit'],
  help: `  github rate-limit --team <id>           GitHub's quota for a project's credentials (GET /rate_limit)
                    --project <id> [--json]`,
  options: { team: { type: 'string', required: true }, project: { type: 'string', required: true } },
  async run(ctx, flags) {
    const q = await ctx.rpc.send(Rpc.githubRateLimit, { teamId: flags.team, projectId: flags.project }, { timeoutMs: CHECK_TIMEOUT_MS });
    if (flags.json) return JSON.stringify({ account: q.account, limit: q.limit, remaining: q.remaining, used: q.used, resetAt: q.resetAt });
    return `${q.account}: ${q.remaining} of ${q.limit} requests left (${q.used} used), resets at ${q.resetAt}`;
  },
});
