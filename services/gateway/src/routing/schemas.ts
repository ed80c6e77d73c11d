import { IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE } from '@overskill/contracts';
import { z } from 'zod';
import { ROLES, SCOPES } from './access';

// The edge's schemas: requests are parsed with them and the OpenAPI document is generated from
// them, so the documentation cannot drift from what the gateway accepts and answers.

const id = (what: string) => z.string().uuid({ message: `must be a ${what} id (a UUID)` });
const isoTime = z.string().datetime({ offset: true });
const cursor = z.string().max(500);

export const ErrorBody = z
  .object({
    code: z.string().describe('A stable error code from the registry, e.g. APP_NOT_FOUND'),
    message: z.string().describe('What went wrong and what to do about it'),
    correlationId: z.string().describe('Quote it when reporting a problem'),
  })
  .strict();

// ---- params
export const AppParams = z.object({ appId: id('app') }).strict();
export const RunParams = z.object({ runId: id('run') }).strict();
export const KeyParams = z.object({ keyId: id('key') }).strict();
export const ProjectParams = z.object({ projectId: id('project') }).strict();
export const TaskParams = z.object({ taskId: id('task') }).strict();
const sha = z.string().regex(/^[0-9a-f]{7,40}$/, 'must be a commit sha (7-40 lowercase hex characters)');
export const VersionParams = z.object({ appId: id('app'), sha }).strict();

// ---- queries
export const PageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: cursor.default(''),
  })
  .strict();

export const RunEventsQuery = z
  .object({
    lastEventId: z.coerce
      .number()
      .int()
      .min(0)
      .max(2_147_483_647)
      .optional()
      .describe('Resume after this event id (the Last-Event-ID header wins when both are sent)'),
  })
  .strict();

const filePath = z.string().min(1).max(512).describe('A path relative to the app root');
export const FileReadQuery = z
  .object({
    path: filePath,
    ref: z
      .string()
      .regex(/^[0-9a-f]{7,40}$/)
      .optional()
      .describe('A version (commit sha); the working tree when absent'),
  })
  .strict();

export const VersionLogQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: cursor.default(''),
    path: filePath.optional(),
  })
  .strict();

export const VersionDiffQuery = z
  .object({
    against: sha.optional().describe("The older side; the version's parent when absent"),
    path: filePath.optional(),
    patch: z.enum(['true', 'false']).default('true').describe('Include the unified diff of each file'),
  })
  .strict();

export const AuditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: cursor.optional(),
    actor: z.string().max(64).optional().describe('A key id or key prefix'),
    action: z.string().max(200).optional().describe('e.g. "POST /api/apps" or "auth.failed"'),
    result: z.string().max(64).optional().describe('"ok" or an error code'),
    since: isoTime.optional(),
    until: isoTime.optional(),
  })
  .strict();

export const KeyListQuery = z.object({ includeRevoked: z.enum(['true', 'false']).default('false') }).strict();

// ---- bodies
export const CreateAppBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).default(''),
    template: z.enum(['empty', 'static-web', 'vite-react']).default('static-web'),
  })
  .strict();

export const UpdateAppBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(2000).optional(),
    maxIterations: z.number().int().min(1).max(200).optional(),
  })
  .strict()
  .refine((b) => b.name !== undefined || b.description !== undefined || b.maxIterations !== undefined, {
    message: 'give at least one of name, description, maxIterations',
  });

// The length limit is the orchestrator's alone (MESSAGE_MAX_CHARS), so it is configured once and
// answered with one error (MESSAGE_TOO_LARGE) whoever posts.
export const PostMessageBody = z
  .object({
    content: z
      .string()
      .refine((s) => s.trim().length > 0, { message: 'content must not be empty' })
      .describe('What the agent should do. At most MESSAGE_MAX_CHARS characters once trimmed (100,000 by default); longer is 413 MESSAGE_TOO_LARGE'),
  })
  .strict();

export const PostMessageHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE)
    .optional()
    .describe(
      'A key you choose (a UUID, say) to send this post again safely: the same key with the same content within 24 hours answers the original message and run (`replayed: true`) instead of starting another; with other content it is refused with IDEMPOTENCY_KEY_REUSED (422).',
    ),
});

export const CancelRunBody = z.object({ reason: z.string().max(500).optional() }).strict();

export const RestoreBody = z
  .object({
    expectedHeadSha: z
      .string()
      .regex(/^[0-9a-f]{40}$/)
      .optional()
      .describe('Refuse with GIT_HEAD_MOVED if HEAD moved since you looked'),
    savePendingChanges: z.boolean().default(false).describe('Commit uncommitted changes first instead of refusing'),
  })
  .strict();

export const CreateKeyBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    role: z.enum(ROLES as [string, ...string[]]),
    scopes: z.array(z.enum(SCOPES)).max(SCOPES.length).default([]),
    expiresAt: isoTime.optional(),
    userEmail: z.string().email().max(254).optional(),
  })
  .strict();

export const CreateSessionBody = z.object({ key: z.string().min(1).max(200).describe('An API key (osk_…)') }).strict();

export const RotateKeyBody = z.object({ graceSeconds: z.number().int().min(0).max(2_592_000).optional() }).strict();

// ---- responses
const nullableString = z.string().nullable();

export const App = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    description: z.string(),
    template: z.string(),
    maxIterations: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .strict();
export const AppPage = z.object({ data: z.array(App), nextCursor: nullableString }).strict();
export const AppDeleted = z.object({ id: z.string().uuid(), deleted: z.literal(true) }).strict();

export const MessageAccepted = z
  .object({
    messageId: z.string().uuid(),
    runId: z.string().uuid(),
    runUrl: z.string(),
    eventsUrl: z.string(),
    replayed: z.boolean().describe('True when this answers an earlier post with the same Idempotency-Key'),
  })
  .strict();
export const ChatMessage = z
  .object({ id: z.string(), role: z.string(), content: z.string(), authorId: nullableString, runId: nullableString, createdAt: z.string() })
  .strict();
export const MessagePage = z.object({ data: z.array(ChatMessage), nextCursor: nullableString }).strict();

export const RUN_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled', 'unknown'] as const;
export const RunStep = z.object({ seq: z.number().int(), kind: z.string(), summary: z.string(), createdAt: z.string() }).strict();
export const Run = z
  .object({
    id: z.string().uuid(),
    appId: z.string().uuid(),
    status: z.enum(RUN_STATUSES),
    error: z.object({ code: z.string(), message: z.string() }).strict().nullable(),
    commitSha: nullableString,
    iterations: z.number().int(),
    inputTokens: z.number().int().describe('Model input tokens so far (cache reads and writes included)'),
    outputTokens: z.number().int(),
    costUsd: z.number().describe('USD spent on model calls so far'),
    createdAt: z.string(),
    finishedAt: nullableString,
    steps: z.array(RunStep),
  })
  .strict();
export const RunPage = z.object({ data: z.array(Run), nextCursor: nullableString }).strict();

export const FileContent = z
  .object({ path: z.string(), ref: nullableString, encoding: z.enum(['utf8', 'base64']), content: z.string(), sizeBytes: z.number().int() })
  .strict();

export const Version = z
  .object({
    sha: z.string(),
    message: z.string(),
    authorName: z.string(),
    committedAt: z.string(),
    parentShas: z.array(z.string()),
    restoredFrom: nullableString,
  })
  .strict();
export const VersionPage = z.object({ data: z.array(Version), nextCursor: nullableString }).strict();
export const VersionDiff = z
  .object({
    fromSha: z.string(),
    toSha: z.string(),
    filesChanged: z.number().int(),
    additions: z.number().int(),
    deletions: z.number().int(),
    files: z.array(
      z
        .object({
          path: z.string(),
          oldPath: nullableString,
          change: z.string(),
          additions: z.number().int(),
          deletions: z.number().int(),
          binary: z.boolean(),
          patch: nullableString,
          patchTruncated: z.boolean(),
        })
        .strict(),
    ),
  })
  .strict();
export const VersionRestored = z
  .object({ sha: z.string(), created: z.boolean(), restoredFrom: z.string(), filesChanged: z.number().int(), savedPendingSha: nullableString })
  .strict();

export const ApiKey = z
  .object({
    id: z.string().uuid(),
    prefix: z.string(),
    teamId: z.string().uuid(),
    role: z.enum(ROLES as [string, ...string[]]),
    name: z.string(),
    scopes: z.array(z.string()),
    userEmail: nullableString,
    createdAt: z.string(),
    expiresAt: nullableString,
    revokedAt: nullableString,
    rotatedAt: nullableString,
    replacedBy: nullableString,
    status: z.enum(['active', 'expired', 'revoked', 'rotating']),
  })
  .strict();
export const ApiKeyList = z.object({ data: z.array(ApiKey) }).strict();
export const CreatedKey = z
  .object({
    id: z.string().uuid(),
    key: z.string().describe('The secret: shown this once, only its hash is stored'),
    prefix: z.string(),
    teamId: z.string().uuid(),
    role: z.string(),
    name: z.string(),
    scopes: z.array(z.string()),
    expiresAt: nullableString,
  })
  .strict();
export const RotatedKey = z.object({ created: CreatedKey, old: ApiKey }).strict();

export const AuditEntry = z
  .object({
    id: z.string().uuid(),
    occurredAt: z.string(),
    actor: nullableString,
    keyPrefix: nullableString,
    action: z.string(),
    target: nullableString,
    ip: z.string(),
    result: z.string(),
    status: z.number().int(),
    correlationId: z.string(),
  })
  .strict();
export const AuditPage = z.object({ data: z.array(AuditEntry), nextCursor: nullableString }).strict();

export const AdminStatus = z
  .object({
    status: z.enum(['ok', 'error']),
    service: z.string(),
    uptimeSeconds: z.number(),
    checks: z.record(
      z.object({ status: z.enum(['up', 'down']), latencyMs: z.number(), error: z.string().optional(), details: z.record(z.unknown()).optional() }).strict(),
    ),
  })
  .strict();

export const ToolStatsQuery = z.object({ days: z.coerce.number().int().min(1).max(90).default(7) }).strict();

// Documented now, served once its backing service exists (the route answers 501 until then).
export const FileTreeQuery = z
  .object({
    ref: z
      .string()
      .regex(/^[0-9a-f]{7,40}$/)
      .optional()
      .describe('A version (commit sha); the latest version when absent'),
  })
  .strict();
export const FileTree = z
  .object({
    appId: z.string().uuid(),
    ref: z.string().describe('The commit the tree is read from'),
    entries: z.array(z.object({ path: z.string(), type: z.enum(['file', 'directory']), sizeBytes: z.number().int().nullable() }).strict()),
    truncated: z.boolean().describe('More files exist than one answer carries (20,000 or ~768 KB of paths)'),
  })
  .strict();
export const ToolStats = z
  .object({
    since: z.string(),
    tools: z.array(z.object({ tool: z.string(), outcome: z.string(), count: z.number().int(), avgMs: z.number(), p95Ms: z.number() }).strict()),
  })
  .strict();

export const Session = z
  .object({
    teamId: z.string().uuid(),
    keyId: z.string().uuid(),
    keyPrefix: z.string(),
    role: z.enum(ROLES as [string, ...string[]]),
    scopes: z.array(z.string()).describe('Empty: everything the role allows'),
    operator: z.boolean().describe('The key belongs to an operator team (GATEWAY_OPERATOR_TEAMS): platform-wide settings are open to its owners'),
    csrfToken: nullableString.describe('Send as X-CSRF-Token with cookie-authenticated writes; null when the caller used a key header'),
    expiresAt: nullableString.describe('When the console session ends; null for a key header'),
  })
  .strict();
export const SessionEnded = z.object({ signedOut: z.literal(true) }).strict();
// ---- the app preview
export const PreviewCheck = z
  .object({
    sha: z.string().describe('The version checked'),
    outcome: z.enum(['passed', 'failed', 'unavailable']).describe('unavailable: the check could not run (reason says why), which is not a pass'),
    consoleErrors: z.array(z.string()),
    pageErrors: z.array(z.string()).describe('Uncaught exceptions, with stacks'),
    failedRequests: z.array(z.string()),
    blank: z.boolean().describe('No visible content after load'),
    loadMs: z.number(),
    screenshotUrl: nullableString.describe('GET it with your key: the PNG the check took'),
    reason: nullableString,
    checkedAt: z.string(),
  })
  .strict();
export const Preview = z
  .object({
    appId: z.string().uuid(),
    previewId: z.string().describe('Unguessable; rotate it to revoke a shared link'),
    url: z.string().describe("The latest version at the app's own origin"),
    mode: z.enum(['static', 'dev-server']),
    state: z.enum(['installing', 'starting', 'running', 'crashed', 'stopped']),
    reason: nullableString,
    lastCheck: PreviewCheck.nullable().describe('The headless check after the latest agent turn'),
  })
  .strict();
export const PreviewLogsQuery = z
  .object({
    since: isoTime.optional().describe('Only entries after this time'),
    level: z.enum(['debug', 'info', 'warn', 'error']).optional().describe('Only entries at or above this level (a failed request counts as error)'),
    source: z.enum(['console', 'network', 'server']).optional().describe("Only the browser console, only requests, or only the dev server's own output"),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();
export const PreviewLogs = z.object({
  entries: z.array(
    z
      .object({
        source: z.enum(['console', 'network', 'server']),
        level: z.enum(['debug', 'info', 'warn', 'error']),
        message: z.string(),
        location: nullableString.describe('Script URL and line:column, when the browser gave one'),
        pageUrl: z.string(),
        occurredAt: z.string(),
      })
      .strict(),
  ),
});
// ---- projects (GitHub repositories whose labelled issues become agent tasks)
const labelName = z
  .string()
  .trim()
  .min(1)
  .max(50)
  .regex(/^[^,]+$/, 'must not contain commas');
const ProjectLabelsInput = z
  .object({ trigger: labelName, processing: labelName, awaitingResponse: labelName, completed: labelName, failed: labelName })
  .partial()
  .strict()
  .describe('Defaults: overskill, processing, awaiting-response, completed, failed');
const PriorityLabel = z.object({ label: labelName, priority: z.number().int().min(0).max(1000) }).strict();
const projectSettings = {
  labels: ProjectLabelsInput.optional(),
  priorityLabels: z.array(PriorityLabel).max(20).optional().describe('Default: urgent 100, high 75, normal 50, low 25'),
  baseBranch: z.string().trim().min(1).max(255).optional().describe('Default: main'),
  answerMode: z.enum(['pull_request', 'comment', 'auto']).optional().describe('Default: auto (the agent decides)'),
  concurrency: z.number().int().min(1).max(64).optional().describe('Tasks of this project at once (default 2)'),
};
export const CreateProjectBody = z
  .object({
    repository: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}$/, 'must be owner/name'),
    auth: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('token'), token: z.string().min(1).max(255) }).strict(),
      z
        .object({ kind: z.literal('app'), appId: z.number().int().min(1), installationId: z.number().int().min(1), privateKey: z.string().min(1).max(10_000) })
        .strict(),
    ]),
    ...projectSettings,
  })
  .strict();
export const UpdateProjectBody = z
  .object({ ...projectSettings, token: z.string().min(1).max(255).optional(), privateKey: z.string().min(1).max(10_000).optional() })
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: 'give at least one field to change' });
export const Project = z
  .object({
    id: z.string().uuid(),
    repository: z.string(),
    auth: z
      .object({ kind: z.enum(['token', 'app']), appId: z.number().int().nullable(), installationId: z.number().int().nullable() })
      .strict()
      .describe('Secrets are never returned'),
    labels: z.object({ trigger: z.string(), processing: z.string(), awaitingResponse: z.string(), completed: z.string(), failed: z.string() }).strict(),
    priorityLabels: z.array(PriorityLabel),
    baseBranch: z.string(),
    answerMode: z.string(),
    concurrency: z.number().int(),
    permissions: z.array(z.string()).describe('What the credentials were granted when last checked'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .strict();
export const ProjectPage = z.object({ data: z.array(Project), nextCursor: nullableString }).strict();
export const ProjectDeleted = z.object({ id: z.string().uuid(), deleted: z.literal(true) }).strict();

// ---- tasks and the GitHub webhook
export const Task = z
  .object({
    id: z.string().uuid(),
    projectId: z.string().uuid(),
    repository: z.string(),
    issueNumber: z.number().int(),
    title: z.string(),
    status: z.enum(['queued', 'running', 'awaiting_response', 'completed', 'failed', 'cancelled']),
    priority: z.number().int(),
    branch: z.string(),
    pendingFollowUps: z.number().int(),
    runId: nullableString.describe('The agent run working (or that worked) the task'),
    pullNumber: z.number().int().nullable().describe('The draft pull request that answered the issue'),
    answerUrl: nullableString.describe('The pull request or comment that answered the issue'),
    errorCode: nullableString,
    errorMessage: nullableString.describe('Why the task failed'),
    attempts: z.number().int().describe('How often a replica took the task (more than 1: resumed or retried)'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .strict();
export const TaskPage = z.object({ data: z.array(Task), nextCursor: nullableString }).strict();
export const TaskList = z.object({ data: z.array(Task) }).strict();
export const GitHubWebhookPayload = z
  .object({ action: z.string().max(50).optional(), repository: z.object({ full_name: z.string().min(3).max(200) }).passthrough() })
  .passthrough()
  .describe('The event payload as GitHub sends it');
export const WebhookAccepted = z
  .object({ deliveryId: z.string(), queued: z.boolean(), duplicate: z.boolean().describe('The delivery id was received before: nothing new was queued') })
  .strict();
