import { AppError, ErrorCode, gitV1 } from '@overskill/contracts';
import { defineTool } from './tool-definition';

const CHANGE: Record<number, string> = {
  [gitV1.FileChange.ADDED]: 'added',
  [gitV1.FileChange.MODIFIED]: 'modified',
  [gitV1.FileChange.DELETED]: 'deleted',
  [gitV1.FileChange.RENAMED]: 'renamed',
  [gitV1.FileChange.COPIED]: 'copied',
  [gitV1.FileChange.TYPE_CHANGED]: 'type changed',
  [gitV1.FileChange.UNTRACKED]: 'untracked',
  [gitV1.FileChange.CONFLICTED]: 'conflicted',
};
const change = (c: gitV1.FileChange) => CHANGE[c] ?? 'changed';
const revision = { type: 'string', minLength: 1, maxLength: 200, description: 'A sha, branch, bookmark/<name> or HEAD~N' };

export const gitStatusTool = defineTool<Record<string, never>>({
  name: 'git_status',
  description: () => "Show the app repository's current branch and the files changed since the last commit.",
  inputSchema: () => ({ type: 'object', additionalProperties: false, properties: {} }),
  writes: 'none',
  delegatesTo: 'git-service (git.repo.status.v1)',
  async run(_input, ctx) {
    const s = await ctx.deps.git.status(ctx.call);
    const head = s.detached ? `HEAD detached at ${s.headSha.slice(0, 12)}` : `On branch ${s.branch} (${s.headSha.slice(0, 12)})`;
    const upstream = s.upstream ? `\nTracking ${s.upstream}: ${s.ahead} ahead, ${s.behind} behind` : '';
    if (s.clean) return { output: `${head}${upstream}\nNothing to commit, working tree clean.` };
    const files = s.files.map((f) => `  ${change(f.change)}: ${f.originalPath ? `${f.originalPath} → ` : ''}${f.path}`).join('\n');
    return { output: `${head}${upstream}\nChanges not committed yet (${s.files.length}):\n${files}` };
  },
});

export const gitCommitTool = defineTool<{ message: string }>({
  name: 'git_commit',
  description: () => 'Commit every change in the app workspace with a message. (Each turn is also committed automatically at its end.)',
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    required: ['message'],
    properties: { message: { type: 'string', minLength: 1, maxLength: 2000 } },
  }),
  writes: 'delegated',
  delegatesTo: 'git-service (git.repo.commit.v1)',
  async run(input, ctx) {
    const c = await ctx.deps.git.commit(ctx.call, input.message);
    if (!c.created) return { output: `Nothing to commit; HEAD stays at ${c.sha.slice(0, 12)}.` };
    return { output: `Committed ${c.sha.slice(0, 12)}: ${input.message.split('\n')[0]} (${c.filesChanged} file${c.filesChanged === 1 ? '' : 's'} changed)` };
  },
});

export const gitBranchTool = defineTool<{ action: 'list' | 'create' | 'switch' | 'delete'; name?: string; from?: string; switch_to?: boolean }>({
  name: 'git_branch',
  description: () => 'List, create, switch or delete branches of the app repository. Switching with uncommitted changes is refused; commit first.',
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    required: ['action'],
    properties: {
      action: { type: 'string', enum: ['list', 'create', 'switch', 'delete'] },
      name: { type: 'string', minLength: 1, maxLength: 100, description: 'Branch name (create, switch, delete)' },
      from: { ...revision, description: 'Where a new branch starts (default HEAD)' },
      switch_to: { type: 'boolean', description: 'Switch to the branch after creating it' },
    },
  }),
  writes: 'delegated',
  delegatesTo: 'git-service (git.branch.{list,create,switch,delete}.v1)',
  async run(input, ctx) {
    if (input.action === 'list') {
      const l = await ctx.deps.git.listBranches(ctx.call);
      return { output: l.branches.map((b) => `${b.current ? '*' : ' '} ${b.name} ${b.sha.slice(0, 12)} ${b.subject}`).join('\n') || 'No branches yet.' };
    }
    if (!input.name) throw new AppError(ErrorCode.TOOL_INPUT_INVALID, `name is required to ${input.action} a branch`);
    if (input.action === 'create') {
      const { branch } = await ctx.deps.git.createBranch(ctx.call, input.name, input.from, input.switch_to ?? false);
      return { output: `Created branch ${branch?.name ?? input.name} at ${branch?.sha.slice(0, 12) ?? '?'}${input.switch_to ? ' and switched to it' : ''}` };
    }
    if (input.action === 'switch') {
      const s = await ctx.deps.git.switchBranch(ctx.call, input.name);
      return { output: `Switched from ${s.previous || 'a detached HEAD'} to ${s.branch?.name ?? input.name}` };
    }
    const d = await ctx.deps.git.deleteBranch(ctx.call, input.name);
    return { output: `Deleted branch ${input.name} (was ${d.sha.slice(0, 12)})` };
  },
});

export const gitDiffTool = defineTool<{ from?: string; to?: string; path?: string }>({
  name: 'git_diff',
  description: () => 'Show what changed, as a unified diff: by default the working tree against the last commit; from/to compare two versions.',
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    properties: {
      from: { ...revision, description: 'Older side (default HEAD)' },
      to: { ...revision, description: 'Newer side (default: the working tree)' },
      path: { type: 'string', minLength: 1, maxLength: 512, description: 'Only this file or folder' },
    },
  }),
  writes: 'none',
  delegatesTo: 'git-service (git.repo.diff.v1)',
  async run(input, ctx) {
    if (input.path) ctx.workspace.resolve(input.path);
    const d = await ctx.deps.git.diff(ctx.call, input);
    if (d.files.length === 0) return { output: 'No differences.' };
    const summary = `${d.filesChanged} file${d.filesChanged === 1 ? '' : 's'} changed, +${d.additions} -${d.deletions}`;
    const patches = d.files
      .map((f) => (f.binary ? `Binary file ${f.path} ${change(f.change)}` : f.patch + (f.patchTruncated ? '\n[patch truncated by git-service]' : '')))
      .join('\n');
    return { output: `${summary}\n${patches}` };
  },
});

export const gitLogTool = defineTool<{ limit?: number; path?: string; revision?: string }>({
  name: 'git_log',
  description: () => 'Show the latest commits of the app repository (sha, date, author, subject), optionally only those touching a path.',
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 100, description: 'How many (default 20)' },
      path: { type: 'string', minLength: 1, maxLength: 512 },
      revision: { ...revision, description: 'Start from this version (default HEAD)' },
    },
  }),
  writes: 'none',
  delegatesTo: 'git-service (git.repo.log.v1)',
  async run(input, ctx) {
    if (input.path) ctx.workspace.resolve(input.path);
    const l = await ctx.deps.git.log(ctx.call, { limit: input.limit ?? 20, path: input.path, revision: input.revision });
    if (l.commits.length === 0) return { output: 'No commits.' };
    return { output: l.commits.map((c) => `${c.sha.slice(0, 12)} ${c.committedAt} ${c.authorName}: ${c.message}`).join('\n') };
  },
});
