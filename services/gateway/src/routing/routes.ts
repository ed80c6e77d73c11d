import { applyDecorators, Delete, Get, HttpCode, Patch, Post, SetMetadata } from '@nestjs/common';
import { RouteSchema } from '@nestjs/platform-fastify';
import { AppError, ErrorCode } from '@overskill/contracts';
import type { z } from 'zod';
import type { Scope } from './access';
import { jsonSchemaOf } from './json-schema';
import type { RoleName } from '../persistence/entities';
import * as B from './backup-admin.schema';
import * as L from './anthropic-messages.schema';
import * as R from './reports.schema';
import * as S from './schemas';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
type AnyObject = z.ZodTypeAny;

export interface RouteSpec<P extends AnyObject = AnyObject, Q extends AnyObject = AnyObject, B extends AnyObject = AnyObject, H extends AnyObject = AnyObject> {
  id: string;
  method: Method;
  // Fastify/Nest style (:appId); the OpenAPI document turns it into {appId}.
  path: string;
  tag: string;
  summary: string;
  description?: string;
  minRole: RoleName;
  // null: any valid key, whatever its scopes (the console's session routes).
  scope: Scope | null;
  // Authenticates inside its handler (sign-in takes the key in its body); the guard lets it through.
  public?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  // Request headers the route reads (lowercase names), validated and documented like the rest.
  headers?: H;
  status: number;
  response?: AnyObject;
  // text/event-stream instead of JSON.
  sse?: boolean;
  // A binary body of this media type instead of JSON (a screenshot).
  binary?: string;
  // Answers 501 NOT_IMPLEMENTED until its backing service exists; the reason is documented.
  notImplemented?: string;
  // JSON or, when the body asks for `stream: true`, text/event-stream (the Anthropic endpoint).
  streamable?: boolean;
  // The error body when it is not the gateway's { code, message, correlationId } alone.
  errorBody?: AnyObject;
  // Called by GitHub, authenticated by the X-Hub-Signature-256 of its body instead of a key
  // (minRole and scope do not apply).
  githubSignature?: boolean;
  // Only keys of the operator teams (GATEWAY_OPERATOR_TEAMS) may call it: it changes the
  // whole platform, not one team.
  operatorOnly?: boolean;
  // Error statuses this route can answer beyond the ones every route can (400, 401, 403, 429, 5xx).
  errors: number[];
  // The success answer is written by a serializer compiled once from `response` (Fastify's
  // fast-json-stringify) instead of JSON.stringify: for the busiest reads.
  compiledReply?: boolean;
}

function route<P extends AnyObject, Q extends AnyObject, B extends AnyObject, H extends AnyObject>(spec: RouteSpec<P, Q, B, H>): RouteSpec<P, Q, B, H> {
  return spec;
}

// Every public route of the gateway, in documentation order.
export const ROUTES = {
  listApps: route({
    id: 'listApps',
    method: 'GET',
    path: '/api/apps',
    tag: 'apps',
    summary: "List the team's apps (newest first, cursor paginated)",
    minRole: 'viewer',
    scope: 'apps:read',
    query: S.PageQuery,
    status: 200,
    response: S.AppPage,
    compiledReply: true,
    errors: [],
  }),
  createApp: route({
    id: 'createApp',
    method: 'POST',
    path: '/api/apps',
    tag: 'apps',
    summary: 'Create an app (a git-backed workspace from a template)',
    minRole: 'member',
    scope: 'apps:write',
    body: S.CreateAppBody,
    status: 201,
    response: S.App,
    errors: [],
  }),
  getApp: route({
    id: 'getApp',
    method: 'GET',
    path: '/api/apps/:appId',
    tag: 'apps',
    summary: 'Get one app',
    minRole: 'viewer',
    scope: 'apps:read',
    params: S.AppParams,
    status: 200,
    response: S.App,
    errors: [404],
  }),
  updateApp: route({
    id: 'updateApp',
    method: 'PATCH',
    path: '/api/apps/:appId',
    tag: 'apps',
    summary: "Change an app's name, description or iteration limit",
    minRole: 'member',
    scope: 'apps:write',
    params: S.AppParams,
    body: S.UpdateAppBody,
    status: 200,
    response: S.App,
    errors: [404],
  }),
  deleteApp: route({
    id: 'deleteApp',
    method: 'DELETE',
    path: '/api/apps/:appId',
    tag: 'apps',
    summary: 'Delete an app (admins and owners)',
    minRole: 'admin',
    scope: 'apps:write',
    params: S.AppParams,
    status: 200,
    response: S.AppDeleted,
    errors: [404],
  }),

  postMessage: route({
    id: 'postMessage',
    method: 'POST',
    path: '/api/apps/:appId/messages',
    tag: 'messages',
    summary: 'Post a chat message: starts an agent run (202 with the run id and its events URL)',
    minRole: 'member',
    scope: 'runs:write',
    params: S.AppParams,
    body: S.PostMessageBody,
    headers: S.PostMessageHeaders,
    status: 202,
    response: S.MessageAccepted,
    errors: [404, 409, 413, 422],
  }),
  listMessages: route({
    id: 'listMessages',
    method: 'GET',
    path: '/api/apps/:appId/messages',
    tag: 'messages',
    summary: "An app's conversation (cursor paginated)",
    minRole: 'viewer',
    scope: 'apps:read',
    params: S.AppParams,
    query: S.PageQuery,
    status: 200,
    response: S.MessagePage,
    errors: [404],
  }),

  listRuns: route({
    id: 'listRuns',
    method: 'GET',
    path: '/api/apps/:appId/runs',
    tag: 'runs',
    summary: "An app's runs, newest first (cursor paginated)",
    minRole: 'viewer',
    scope: 'runs:read',
    params: S.AppParams,
    query: S.PageQuery,
    status: 200,
    response: S.RunPage,
    errors: [404],
  }),
  getRun: route({
    id: 'getRun',
    method: 'GET',
    path: '/api/runs/:runId',
    tag: 'runs',
    summary: 'One run with its steps',
    minRole: 'viewer',
    scope: 'runs:read',
    params: S.RunParams,
    status: 200,
    response: S.Run,
    errors: [404],
  }),
  cancelRun: route({
    id: 'cancelRun',
    method: 'POST',
    path: '/api/runs/:runId/cancel',
    tag: 'runs',
    summary: 'Cancel a queued or running run (a finished run is answered as it is)',
    minRole: 'member',
    scope: 'runs:write',
    params: S.RunParams,
    body: S.CancelRunBody,
    status: 200,
    response: S.Run,
    errors: [404],
  }),
  runEvents: route({
    id: 'runEvents',
    method: 'GET',
    path: '/api/runs/:runId/events',
    tag: 'runs',
    summary: "A run's progress as Server-Sent Events",
    description:
      'Each event has `id` = its sequence number, `event` = its kind and `data` = JSON. Reconnect with `Last-Event-ID` (or ?lastEventId=) to resume without gaps or duplicates. The stream ends after the event carrying a final status (completed, failed, cancelled).',
    minRole: 'viewer',
    scope: 'runs:read',
    params: S.RunParams,
    query: S.RunEventsQuery,
    status: 200,
    sse: true,
    errors: [404],
  }),

  fileTree: route({
    id: 'fileTree',
    method: 'GET',
    path: '/api/apps/:appId/files',
    tag: 'files',
    summary: "The app's files and folders at the latest version or at ?ref=<sha> (committed files; every agent turn is a commit)",
    minRole: 'viewer',
    scope: 'files:read',
    params: S.AppParams,
    query: S.FileTreeQuery,
    status: 200,
    response: S.FileTree,
    errors: [404],
  }),
  readFile: route({
    id: 'readFile',
    method: 'GET',
    path: '/api/apps/:appId/files/content',
    tag: 'files',
    summary: 'Read one file at the latest version or at ?ref=<sha>',
    minRole: 'viewer',
    scope: 'files:read',
    params: S.AppParams,
    query: S.FileReadQuery,
    status: 200,
    response: S.FileContent,
    errors: [404, 413],
  }),

  listVersions: route({
    id: 'listVersions',
    method: 'GET',
    path: '/api/apps/:appId/versions',
    tag: 'versions',
    summary: "The app's versions (one commit per agent turn), newest first",
    minRole: 'viewer',
    scope: 'versions:read',
    params: S.AppParams,
    query: S.VersionLogQuery,
    status: 200,
    response: S.VersionPage,
    errors: [404],
  }),
  diffVersion: route({
    id: 'diffVersion',
    method: 'GET',
    path: '/api/apps/:appId/versions/:sha/diff',
    tag: 'versions',
    summary: 'What a version changed (against its parent, or ?against=<sha>)',
    minRole: 'viewer',
    scope: 'versions:read',
    params: S.VersionParams,
    query: S.VersionDiffQuery,
    status: 200,
    response: S.VersionDiff,
    errors: [404],
  }),
  restoreVersion: route({
    id: 'restoreVersion',
    method: 'POST',
    path: '/api/apps/:appId/versions/:sha/restore',
    tag: 'versions',
    summary: 'Restore a version as a new commit (history is kept)',
    minRole: 'member',
    scope: 'versions:write',
    params: S.VersionParams,
    body: S.RestoreBody,
    status: 200,
    response: S.VersionRestored,
    errors: [404, 409, 423],
  }),

  getPreview: route({
    id: 'getPreview',
    method: 'GET',
    path: '/api/apps/:appId/preview',
    tag: 'preview',
    summary: "The app's live preview: its URL at its own origin, its state and the last headless check",
    minRole: 'viewer',
    scope: 'apps:read',
    params: S.AppParams,
    status: 200,
    response: S.Preview,
    errors: [404],
  }),
  restartPreview: route({
    id: 'restartPreview',
    method: 'POST',
    path: '/api/apps/:appId/preview/restart',
    tag: 'preview',
    summary: 'Start the preview again',
    minRole: 'member',
    scope: 'apps:write',
    params: S.AppParams,
    status: 200,
    response: S.Preview,
    errors: [404],
  }),
  rotatePreview: route({
    id: 'rotatePreview',
    method: 'POST',
    path: '/api/apps/:appId/preview/rotate',
    tag: 'preview',
    summary: 'Give the preview a new unguessable URL; the old one answers 404 at once',
    minRole: 'member',
    scope: 'apps:write',
    params: S.AppParams,
    status: 200,
    response: S.Preview,
    errors: [404],
  }),
  previewLogs: route({
    id: 'previewLogs',
    method: 'GET',
    path: '/api/apps/:appId/preview/logs',
    tag: 'preview',
    summary: "What the preview's browsers saw: console entries and requests, newest first",
    minRole: 'viewer',
    scope: 'apps:read',
    params: S.AppParams,
    query: S.PreviewLogsQuery,
    status: 200,
    response: S.PreviewLogs,
    errors: [404],
  }),
  versionScreenshot: route({
    id: 'versionScreenshot',
    method: 'GET',
    path: '/api/apps/:appId/versions/:sha/screenshot',
    tag: 'versions',
    summary: 'The PNG the headless preview check took of a version (full 40-character sha)',
    minRole: 'viewer',
    scope: 'versions:read',
    params: S.VersionParams,
    status: 200,
    binary: 'image/png',
    errors: [404],
  }),

  listProjects: route({
    id: 'listProjects',
    method: 'GET',
    path: '/api/projects',
    tag: 'projects',
    summary: "The team's GitHub projects (newest first, cursor paginated)",
    minRole: 'viewer',
    scope: 'projects:read',
    query: S.PageQuery,
    status: 200,
    response: S.ProjectPage,
    errors: [],
  }),
  createProject: route({
    id: 'createProject',
    method: 'POST',
    path: '/api/projects',
    tag: 'projects',
    summary: 'Add a GitHub repository whose labelled issues become agent tasks (admins)',
    description:
      'The credentials are checked on GitHub first; a missing permission is named (422 GITHUB_PERMISSION_MISSING). They are stored encrypted and never returned.',
    minRole: 'admin',
    scope: 'projects:write',
    body: S.CreateProjectBody,
    status: 201,
    response: S.Project,
    errors: [409, 422, 502],
  }),
  getProject: route({
    id: 'getProject',
    method: 'GET',
    path: '/api/projects/:projectId',
    tag: 'projects',
    summary: 'One project (never its credentials)',
    minRole: 'viewer',
    scope: 'projects:read',
    params: S.ProjectParams,
    status: 200,
    response: S.Project,
    errors: [404],
  }),
  updateProject: route({
    id: 'updateProject',
    method: 'PATCH',
    path: '/api/projects/:projectId',
    tag: 'projects',
    summary: "Change a project's labels, branch, answer mode, concurrency or credentials (admins)",
    minRole: 'admin',
    scope: 'projects:write',
    params: S.ProjectParams,
    body: S.UpdateProjectBody,
    status: 200,
    response: S.Project,
    errors: [404, 422, 502],
  }),
  deleteProject: route({
    id: 'deleteProject',
    method: 'DELETE',
    path: '/api/projects/:projectId',
    tag: 'projects',
    summary: 'Remove a project (admins)',
    minRole: 'admin',
    scope: 'projects:write',
    params: S.ProjectParams,
    status: 200,
    response: S.ProjectDeleted,
    errors: [404],
  }),

  listProjectTasks: route({
    id: 'listProjectTasks',
    method: 'GET',
    path: '/api/projects/:projectId/tasks',
    tag: 'tasks',
    summary: "A project's tasks, newest first (cursor paginated)",
    minRole: 'viewer',
    scope: 'projects:read',
    params: S.ProjectParams,
    query: S.PageQuery,
    status: 200,
    response: S.TaskPage,
    errors: [404],
  }),
  runningTasks: route({
    id: 'runningTasks',
    method: 'GET',
    path: '/api/tasks/running',
    tag: 'tasks',
    summary: "The team's queued and running tasks, highest priority first",
    minRole: 'viewer',
    scope: 'projects:read',
    status: 200,
    response: S.TaskList,
    errors: [],
  }),
  getTask: route({
    id: 'getTask',
    method: 'GET',
    path: '/api/tasks/:taskId',
    tag: 'tasks',
    summary: 'One task',
    minRole: 'viewer',
    scope: 'projects:read',
    params: S.TaskParams,
    status: 200,
    response: S.Task,
    errors: [404],
  }),
  cancelTask: route({
    id: 'cancelTask',
    method: 'POST',
    path: '/api/tasks/:taskId/cancel',
    tag: 'tasks',
    summary: 'Cancel a queued or running task (its run stops; a finished task is answered as it is)',
    minRole: 'member',
    scope: 'projects:write',
    params: S.TaskParams,
    status: 200,
    response: S.Task,
    errors: [404],
  }),
  retryTask: route({
    id: 'retryTask',
    method: 'POST',
    path: '/api/tasks/:taskId/retry',
    tag: 'tasks',
    summary: 'Queue a failed or cancelled task again, on the same branch and pull request',
    minRole: 'member',
    scope: 'projects:write',
    params: S.TaskParams,
    status: 200,
    response: S.Task,
    errors: [404, 409],
  }),
  githubWebhook: route({
    id: 'githubWebhook',
    method: 'POST',
    path: '/api/github/webhook',
    tag: 'github',
    summary: 'GitHub webhook deliveries (issues, issue_comment, pull_request_review): recorded and queued, answered at once',
    description:
      'Set the webhook content type to application/json and its secret to one of GITHUB_WEBHOOK_SECRET. A delivery counts once by its X-GitHub-Delivery id, also when GitHub redelivers it days later.',
    minRole: 'viewer',
    scope: 'projects:read',
    githubSignature: true,
    body: S.GitHubWebhookPayload,
    status: 202,
    response: S.WebhookAccepted,
    errors: [404],
  }),

  listKeys: route({
    id: 'listKeys',
    method: 'GET',
    path: '/api/keys',
    tag: 'keys',
    summary: "The team's API keys (never their secrets)",
    minRole: 'admin',
    scope: 'keys:manage',
    query: S.KeyListQuery,
    status: 200,
    response: S.ApiKeyList,
    errors: [],
  }),
  createKey: route({
    id: 'createKey',
    method: 'POST',
    path: '/api/keys',
    tag: 'keys',
    summary: 'Create an API key; the secret is in this response only',
    minRole: 'admin',
    scope: 'keys:manage',
    body: S.CreateKeyBody,
    status: 201,
    response: S.CreatedKey,
    errors: [],
  }),
  rotateKey: route({
    id: 'rotateKey',
    method: 'POST',
    path: '/api/keys/:keyId/rotate',
    tag: 'keys',
    summary: 'Rotate a key: a new secret now, the old one keeps working for the grace period',
    minRole: 'admin',
    scope: 'keys:manage',
    params: S.KeyParams,
    body: S.RotateKeyBody,
    status: 200,
    response: S.RotatedKey,
    errors: [404],
  }),
  revokeKey: route({
    id: 'revokeKey',
    method: 'DELETE',
    path: '/api/keys/:keyId',
    tag: 'keys',
    summary: 'Revoke a key, effective at once on every gateway replica',
    minRole: 'admin',
    scope: 'keys:manage',
    params: S.KeyParams,
    status: 200,
    response: S.ApiKey,
    errors: [404],
  }),

  listAudit: route({
    id: 'listAudit',
    method: 'GET',
    path: '/api/audit',
    tag: 'audit',
    summary: "The team's audit log, newest first (filters, cursor paginated)",
    minRole: 'admin',
    scope: 'audit:read',
    query: S.AuditQuery,
    status: 200,
    response: S.AuditPage,
    errors: [],
  }),

  createSession: route({
    id: 'createSession',
    method: 'POST',
    path: '/api/session',
    tag: 'session',
    summary: 'Sign the web console in: exchanges an API key for a short-lived HttpOnly session cookie and a CSRF token',
    description:
      'Needs no header: the key is in the body. The answer sets `osk_session` (HttpOnly, SameSite=Strict, Path=/api). Requests that carry the cookie instead of a key send the `X-CSRF-Token` from this answer on every POST, PATCH and DELETE. The session ends at `expiresAt`, at sign-out, or as soon as its key is revoked, expires or is rotated out.',
    minRole: 'viewer',
    scope: null,
    public: true,
    body: S.CreateSessionBody,
    status: 201,
    response: S.Session,
    errors: [],
  }),
  getSession: route({
    id: 'getSession',
    method: 'GET',
    path: '/api/session',
    tag: 'session',
    summary: 'Who the caller is: team, role, scopes, and for a console session its CSRF token and expiry',
    minRole: 'viewer',
    scope: null,
    status: 200,
    response: S.Session,
    errors: [],
  }),
  deleteSession: route({
    id: 'deleteSession',
    method: 'DELETE',
    path: '/api/session',
    tag: 'session',
    summary: 'Sign the console out: the session is deleted and its cookie cleared',
    minRole: 'viewer',
    scope: null,
    status: 200,
    response: S.SessionEnded,
    errors: [],
  }),

  adminStatus: route({
    id: 'adminStatus',
    method: 'GET',
    path: '/api/admin/status',
    tag: 'admin',
    summary: 'Every service and dependency with its latency',
    minRole: 'admin',
    scope: 'admin:read',
    status: 200,
    response: S.AdminStatus,
    errors: [],
  }),
  toolStats: route({
    id: 'toolStats',
    method: 'GET',
    path: '/api/admin/tools/stats',
    tag: 'admin',
    summary: "Your team's tool executions by tool and outcome over the last days (from analytics)",
    minRole: 'admin',
    scope: 'admin:read',
    query: S.ToolStatsQuery,
    status: 200,
    response: S.ToolStats,
    errors: [],
  }),

  // Business analytics (daily aggregates kept by analytics): your team, or with `team` every team for operator keys.
  reportBusiness: route({
    id: 'reportBusiness',
    method: 'GET',
    path: '/api/admin/reports/business',
    tag: 'admin',
    summary:
      'Business figures over a range of UTC days: apps created, active users, AI requests per user and app, tool usage, cost per app (AI plus an infrastructure share)',
    description:
      'From the daily aggregates analytics keeps of the stored facts (at most 92 days; default the last 30). `team=all` or another team id needs a key of an operator team.',
    minRole: 'admin',
    scope: 'admin:read',
    query: R.ReportQuery,
    status: 200,
    response: R.BusinessReport,
    errors: [],
  }),
  reportMetrics: route({
    id: 'reportMetrics',
    method: 'GET',
    path: '/api/admin/reports/metrics',
    tag: 'admin',
    summary: "The seed's metrics JSON for a UTC day: apps_created_today, active_users, cache_hit_rate, ai_tokens_used, tool_usage",
    minRole: 'admin',
    scope: 'admin:read',
    query: R.MetricsQuery,
    status: 200,
    response: R.BusinessMetrics,
    errors: [],
  }),
  reportPerformance: route({
    id: 'reportPerformance',
    method: 'GET',
    path: '/api/admin/reports/performance',
    tag: 'admin',
    summary: 'Latency percentiles, throughput and error rates from the stored facts: model calls by alias, tool calls by tool, mutating API requests by route',
    minRole: 'admin',
    scope: 'admin:read',
    query: R.ReportQuery,
    status: 200,
    response: R.PerformanceReport,
    errors: [],
  }),

  // The Anthropic Messages API (baseURL = <gateway>/api), under the team's AI limits and budgets.
  createLlmMessage: route({
    id: 'createLlmMessage',
    method: 'POST',
    path: '/api/v1/messages',
    tag: 'llm',
    summary: 'Anthropic-compatible Messages API, routed through ai-router (JSON, or SSE with stream: true)',
    description:
      'Point any Anthropic client at `<gateway>/api` with a team key. Model aliases, fallback, rate limits, budgets, the response cache and accounting apply. Errors use the Anthropic shape plus `code` and `correlationId`.',
    minRole: 'member',
    scope: 'ai:use',
    body: L.messagesRequestSchema,
    status: 200,
    response: L.messagesResponseSchema,
    streamable: true,
    errorBody: L.anthropicErrorSchema,
    errors: [402, 502],
  }),
  aiStatus: route({
    id: 'aiStatus',
    method: 'GET',
    path: '/api/admin/ai/status',
    tag: 'admin',
    summary: "The model router: active alias, aliases, each model's circuit breaker",
    minRole: 'admin',
    scope: 'admin:read',
    status: 200,
    response: L.aiStatusSchema,
    errors: [],
  }),
  aiCache: route({
    id: 'aiCache',
    method: 'GET',
    path: '/api/admin/ai/cache',
    tag: 'admin',
    summary: 'Response cache statistics (hits, misses, size, evictions)',
    minRole: 'admin',
    scope: 'admin:read',
    status: 200,
    response: L.aiCacheStatsSchema,
    errors: [],
  }),
  aiUsage: route({
    id: 'aiUsage',
    method: 'GET',
    path: '/api/admin/ai/usage',
    tag: 'admin',
    summary: "Your team's AI usage and spend for a day (UTC)",
    minRole: 'admin',
    scope: 'admin:read',
    query: L.aiUsageQuerySchema,
    status: 200,
    response: L.aiUsageSchema,
    errors: [],
  }),
  aiUsageDaily: route({
    id: 'aiUsageDaily',
    method: 'GET',
    path: '/api/admin/ai/usage/daily',
    tag: 'admin',
    summary: "Your team's AI usage and cost per UTC day and per app over a range (at most 92 days)",
    description: 'Summed from every model call the ai-router recorded (analytics); the day and app totals add up to the range total.',
    minRole: 'admin',
    scope: 'admin:read',
    query: L.aiUsageDailyQuerySchema,
    status: 200,
    response: L.aiUsageDailySchema,
    errors: [],
  }),
  aiSwitchModel: route({
    id: 'aiSwitchModel',
    method: 'POST',
    path: '/api/admin/ai/model',
    tag: 'admin',
    summary: 'Switch the active model alias for every replica (operator teams only)',
    minRole: 'owner',
    scope: 'admin:write',
    operatorOnly: true,
    body: L.aiSwitchModelBodySchema,
    status: 200,
    response: L.aiModelSwitchedSchema,
    errors: [],
  }),

  // Backups are platform-wide: operator teams only. Long work answers 202 and lands in the catalog row.
  listBackups: route({
    id: 'listBackups',
    method: 'GET',
    path: '/api/admin/backups',
    tag: 'admin',
    summary: 'Backups, newest first: type, status, size, verification and drill result',
    minRole: 'admin',
    scope: 'admin:read',
    operatorOnly: true,
    query: B.BackupListQuery,
    status: 200,
    response: B.BackupList,
    errors: [],
  }),
  createBackup: route({
    id: 'createBackup',
    method: 'POST',
    path: '/api/admin/backups',
    tag: 'admin',
    summary: 'Start a backup (full, database, repos, config, redis, base); poll its status',
    minRole: 'admin',
    scope: 'admin:write',
    operatorOnly: true,
    body: B.CreateBackupBody,
    status: 202,
    response: B.Backup,
    errors: [503],
  }),
  getBackup: route({
    id: 'getBackup',
    method: 'GET',
    path: '/api/admin/backups/:backupId',
    tag: 'admin',
    summary: "One backup's status and its manifest (artifacts with size and sha256, database position, refs)",
    minRole: 'admin',
    scope: 'admin:read',
    operatorOnly: true,
    params: B.BackupParams,
    status: 200,
    response: B.BackupWithManifest,
    errors: [404],
  }),
  verifyBackup: route({
    id: 'verifyBackup',
    method: 'POST',
    path: '/api/admin/backups/:backupId/verify',
    tag: 'admin',
    summary: 'Start verifying a backup (decrypt, checksums, each artifact with its tool); the result lands in its status',
    minRole: 'admin',
    scope: 'admin:write',
    operatorOnly: true,
    params: B.BackupParams,
    status: 202,
    response: B.VerifyStarted,
    errors: [404, 422],
  }),
  drillBackup: route({
    id: 'drillBackup',
    method: 'POST',
    path: '/api/admin/backups/drill',
    tag: 'admin',
    summary: 'Start a restore drill of the newest (or the given) backup into scratch; the result lands in its status',
    minRole: 'admin',
    scope: 'admin:write',
    operatorOnly: true,
    body: B.DrillBody,
    status: 202,
    response: B.DrillStarted,
    errors: [404],
  }),
  restoreBackupToMoment: route({
    id: 'restoreBackupToMoment',
    method: 'POST',
    path: '/api/admin/backups/restore',
    tag: 'admin',
    summary: 'Restore the database as of a moment ("latest" or an ISO time) into a scratch database: base backup plus WAL, replayed by PostgreSQL',
    minRole: 'admin',
    scope: 'admin:write',
    operatorOnly: true,
    body: B.PointInTimeRestoreBody,
    status: 200,
    response: B.PointInTimeRestored,
    errors: [404, 422],
  }),
} as const;

export type RouteId = keyof typeof ROUTES;
export const ROUTE_SPEC = Symbol('ROUTE_SPEC');

const METHOD_DECORATORS = { GET: Get, POST: Post, PATCH: Patch, DELETE: Delete } as const;

// The one decorator a controller method needs: path, status and the spec the guard checks.
export function ApiRoute(spec: RouteSpec): MethodDecorator {
  const decorators = [METHOD_DECORATORS[spec.method](spec.path), HttpCode(spec.status), SetMetadata(ROUTE_SPEC, spec)];
  if (spec.compiledReply && spec.response) decorators.push(RouteSchema({ response: { [spec.status]: jsonSchemaOf(spec.response) } }));
  return applyDecorators(...decorators);
}

export interface ParsedInput<P, Q, B, H> {
  params: P;
  query: Q;
  body: B;
  headers: H;
}

// Validates params, query, body and headers against the spec; the first problem of each is named.
export function parseRequest<P extends AnyObject, Q extends AnyObject, B extends AnyObject, H extends AnyObject>(
  spec: RouteSpec<P, Q, B, H>,
  req: { params?: unknown; query?: unknown; body?: unknown; headers?: unknown },
): ParsedInput<z.infer<P>, z.infer<Q>, z.infer<B>, z.infer<H>> {
  return {
    params: spec.params ? parseParams(spec.params, req.params) : ({} as z.infer<P>),
    query: spec.query ? parseInput(spec.query, req.query, 'query') : ({} as z.infer<Q>),
    body: spec.body ? parseInput(spec.body, req.body, 'body') : ({} as z.infer<B>),
    headers: spec.headers ? parseInput(spec.headers, req.headers, 'header') : ({} as z.infer<H>),
  };
}

// An id that cannot exist is answered like one that does not: 404 with the entity's code.
const NOT_FOUND_BY_PARAM: Record<string, { code: ErrorCode; entity: string }> = {
  appId: { code: ErrorCode.APP_NOT_FOUND, entity: 'App' },
  runId: { code: ErrorCode.RUN_NOT_FOUND, entity: 'Run' },
  keyId: { code: ErrorCode.KEY_NOT_FOUND, entity: 'Key' },
  projectId: { code: ErrorCode.PROJECT_NOT_FOUND, entity: 'Project' },
  taskId: { code: ErrorCode.TASK_NOT_FOUND, entity: 'Task' },
  sha: { code: ErrorCode.GIT_REVISION_NOT_FOUND, entity: 'Version' },
};

function parseParams<T extends AnyObject>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const name = String(result.error.issues[0]?.path[0] ?? '');
  const notFound = NOT_FOUND_BY_PARAM[name];
  if (!notFound) return parseInput(schema, value, 'path');
  const raw = String((value as Record<string, unknown>)[name] ?? '').slice(0, 64);
  throw new AppError(notFound.code, `${notFound.entity} ${raw} not found`);
}

export function parseInput<T extends AnyObject>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || where}: ${i.message}`)
    .join('; ');
  throw new AppError(ErrorCode.VALIDATION_FAILED, `Invalid ${where}: ${problems}`);
}

export function notImplemented(spec: RouteSpec): never {
  throw new AppError(ErrorCode.NOT_IMPLEMENTED, `${spec.method} ${spec.path} is not available yet: ${spec.notImplemented ?? ''}`.trim());
}
