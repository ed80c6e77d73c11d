import type { DescMessage } from '@bufbuild/protobuf';
import * as aiV1 from './gen/overskill/ai/v1/ai_pb';
import * as analyticsV1 from './gen/overskill/analytics/v1/analytics_pb';
import * as backupV1 from './gen/overskill/backup/v1/backup_pb';
import * as commonV1 from './gen/overskill/common/v1/common_pb';
import * as gatewayV1 from './gen/overskill/gateway/v1/gateway_pb';
import * as gitV1 from './gen/overskill/git/v1/git_pb';
import * as orchestratorV1 from './gen/overskill/orchestrator/v1/orchestrator_pb';
import * as cacheV1 from './gen/overskill/orchestrator/v1/cache_pb';
import * as modelTestV1 from './gen/overskill/ai/v1/model_test_pb';
import * as toolV1 from './gen/overskill/tool/v1/tool_pb';

// The one registry of NATS subjects. `<owner>.<entity>.<verb>.v<N>` for request-reply,
// past tense for events. A breaking change adds a new entry with N+1; both are served
// during a rollout.

export type ServiceName = 'gateway' | 'orchestrator' | 'ai-router' | 'tool-runner' | 'git-service' | 'analytics' | 'backup';

export const SERVICE_NAMES: readonly ServiceName[] = ['gateway', 'orchestrator', 'ai-router', 'tool-runner', 'git-service', 'analytics', 'backup'];

// The first token of every subject a service answers.
export const SUBJECT_PREFIX: Record<ServiceName, string> = {
  gateway: 'gateway',
  orchestrator: 'orchestrator',
  'ai-router': 'ai',
  'tool-runner': 'tool',
  'git-service': 'git',
  analytics: 'analytics',
  backup: 'backup',
};

export interface RpcDefinition<Req extends DescMessage = DescMessage, Res extends DescMessage = DescMessage> {
  readonly subject: string;
  readonly owner: ServiceName;
  readonly request: Req;
  readonly response: Res;
}

function rpc<Req extends DescMessage, Res extends DescMessage>(owner: ServiceName, subject: string, request: Req, response: Res): RpcDefinition<Req, Res> {
  if (!subject.startsWith(`${SUBJECT_PREFIX[owner]}.`)) throw new Error(`subject ${subject} is outside ${owner}'s namespace`);
  return { subject, owner, request, response };
}

function healthPing(owner: ServiceName) {
  return rpc(owner, `${SUBJECT_PREFIX[owner]}.health.ping.v1`, commonV1.HealthPingRequestSchema, commonV1.HealthPingResponseSchema);
}

export const Rpc = {
  apiKeyCreate: rpc('gateway', 'gateway.apikey.create.v1', gatewayV1.ApiKeyCreateRequestSchema, gatewayV1.ApiKeyCreateResponseSchema),
  apiKeyList: rpc('gateway', 'gateway.apikey.list.v1', gatewayV1.ApiKeyListRequestSchema, gatewayV1.ApiKeyListResponseSchema),
  apiKeyRotate: rpc('gateway', 'gateway.apikey.rotate.v1', gatewayV1.ApiKeyRotateRequestSchema, gatewayV1.ApiKeyRotateResponseSchema),
  apiKeyRevoke: rpc('gateway', 'gateway.apikey.revoke.v1', gatewayV1.ApiKeyRevokeRequestSchema, gatewayV1.ApiKeyRevokeResponseSchema),
  apiKeyAudit: rpc('gateway', 'gateway.apikey.audit.v1', gatewayV1.ApiKeyAuditRequestSchema, gatewayV1.ApiKeyAuditResponseSchema),

  appCreate: rpc('orchestrator', 'orchestrator.app.create.v1', orchestratorV1.AppCreateRequestSchema, orchestratorV1.AppSchema),
  appGet: rpc('orchestrator', 'orchestrator.app.get.v1', orchestratorV1.AppGetRequestSchema, orchestratorV1.AppSchema),
  appList: rpc('orchestrator', 'orchestrator.app.list.v1', orchestratorV1.AppListRequestSchema, orchestratorV1.AppListResponseSchema),
  messagePost: rpc('orchestrator', 'orchestrator.message.post.v1', orchestratorV1.MessagePostRequestSchema, orchestratorV1.MessagePostResponseSchema),
  runGet: rpc('orchestrator', 'orchestrator.run.get.v1', orchestratorV1.RunGetRequestSchema, orchestratorV1.RunSchema),
  appUpdate: rpc('orchestrator', 'orchestrator.app.update.v1', orchestratorV1.AppUpdateRequestSchema, orchestratorV1.AppSchema),
  appDelete: rpc('orchestrator', 'orchestrator.app.delete.v1', orchestratorV1.AppDeleteRequestSchema, orchestratorV1.AppDeleteResponseSchema),
  messageList: rpc('orchestrator', 'orchestrator.message.list.v1', orchestratorV1.MessageListRequestSchema, orchestratorV1.MessageListResponseSchema),
  runList: rpc('orchestrator', 'orchestrator.run.list.v1', orchestratorV1.RunListRequestSchema, orchestratorV1.RunListResponseSchema),
  runCancel: rpc('orchestrator', 'orchestrator.run.cancel.v1', orchestratorV1.RunCancelRequestSchema, orchestratorV1.RunSchema),
  runEventsList: rpc('orchestrator', 'orchestrator.runevent.list.v1', orchestratorV1.RunEventsListRequestSchema, orchestratorV1.RunEventsListResponseSchema),
  appIdsExist: rpc('orchestrator', 'orchestrator.app.exists.v1', orchestratorV1.AppIdsExistRequestSchema, orchestratorV1.AppIdsExistResponseSchema),
  // GitHub projects whose labelled issues become agent tasks.
  projectCreate: rpc('orchestrator', 'orchestrator.project.create.v1', orchestratorV1.ProjectCreateRequestSchema, orchestratorV1.ProjectSchema),
  projectGet: rpc('orchestrator', 'orchestrator.project.get.v1', orchestratorV1.ProjectGetRequestSchema, orchestratorV1.ProjectSchema),
  projectList: rpc('orchestrator', 'orchestrator.project.list.v1', orchestratorV1.ProjectListRequestSchema, orchestratorV1.ProjectListResponseSchema),
  projectUpdate: rpc('orchestrator', 'orchestrator.project.update.v1', orchestratorV1.ProjectUpdateRequestSchema, orchestratorV1.ProjectSchema),
  projectDelete: rpc('orchestrator', 'orchestrator.project.delete.v1', orchestratorV1.ProjectDeleteRequestSchema, orchestratorV1.ProjectDeleteResponseSchema),
  githubDeliveryIngest: rpc(
    'orchestrator',
    'orchestrator.delivery.ingest.v1',
    orchestratorV1.GitHubDeliveryIngestRequestSchema,
    orchestratorV1.GitHubDeliveryIngestResponseSchema,
  ),
  taskList: rpc('orchestrator', 'orchestrator.task.list.v1', orchestratorV1.TaskListRequestSchema, orchestratorV1.TaskListResponseSchema),
  taskGet: rpc('orchestrator', 'orchestrator.task.get.v1', orchestratorV1.TaskGetRequestSchema, orchestratorV1.TaskSchema),
  githubRateLimit: rpc(
    'orchestrator',
    'orchestrator.github.ratelimit.v1',
    orchestratorV1.GitHubRateLimitRequestSchema,
    orchestratorV1.GitHubRateLimitResponseSchema,
  ),
  taskRunning: rpc('orchestrator', 'orchestrator.task.running.v1', orchestratorV1.TaskRunningRequestSchema, orchestratorV1.TaskRunningResponseSchema),
  taskCancel: rpc('orchestrator', 'orchestrator.task.cancel.v1', orchestratorV1.TaskCancelRequestSchema, orchestratorV1.TaskSchema),
  taskRetry: rpc('orchestrator', 'orchestrator.task.retry.v1', orchestratorV1.TaskRetryRequestSchema, orchestratorV1.TaskSchema),
  // The cache levels on Redis: the orchestrator, their main user, owns the operator's view of them.
  cacheStats: rpc('orchestrator', 'orchestrator.cache.stats.v1', cacheV1.CacheStatsRequestSchema, cacheV1.CacheStatsResponseSchema),
  cacheCleanup: rpc('orchestrator', 'orchestrator.cache.cleanup.v1', cacheV1.CacheCleanupRequestSchema, cacheV1.CacheCleanupResponseSchema),

  aiCompletionCreate: rpc('ai-router', 'ai.completion.create.v1', aiV1.CompletionRequestSchema, aiV1.CompletionResponseSchema),
  // Chunks go to aiStreamChunkSubject(id) on core NATS; the reply is the final response.
  aiCompletionStream: rpc('ai-router', 'ai.completion.stream.v1', aiV1.CompletionStreamRequestSchema, aiV1.CompletionResponseSchema),
  aiRouterStatus: rpc('ai-router', 'ai.router.status.v1', aiV1.RouterStatusRequestSchema, aiV1.RouterStatusResponseSchema),
  aiCacheStats: rpc('ai-router', 'ai.cache.stats.v1', aiV1.CacheStatsRequestSchema, aiV1.CacheStatsResponseSchema),
  aiUsageSummary: rpc('ai-router', 'ai.usage.summary.v1', aiV1.UsageSummaryRequestSchema, aiV1.UsageSummaryResponseSchema),
  aiModelSwitch: rpc('ai-router', 'ai.model.switch.v1', aiV1.ModelSwitchRequestSchema, aiV1.ModelSwitchResponseSchema),
  aiModelTest: rpc('ai-router', 'ai.model.test.v1', modelTestV1.ModelTestRequestSchema, modelTestV1.ModelTestResponseSchema),

  toolCatalogList: rpc('tool-runner', 'tool.catalog.list.v1', toolV1.CatalogListRequestSchema, toolV1.CatalogListResponseSchema),
  toolCallExecute: rpc('tool-runner', 'tool.call.execute.v1', toolV1.ToolCallRequestSchema, toolV1.ToolCallResponseSchema),
  // The app preview (tool-runner serves it at the app's own origin).
  previewGet: rpc('tool-runner', 'tool.preview.get.v1', toolV1.PreviewGetRequestSchema, toolV1.PreviewInfoSchema),
  previewRotate: rpc('tool-runner', 'tool.preview.rotate.v1', toolV1.PreviewRotateRequestSchema, toolV1.PreviewInfoSchema),
  previewRestart: rpc('tool-runner', 'tool.preview.restart.v1', toolV1.PreviewRestartRequestSchema, toolV1.PreviewInfoSchema),
  previewCheck: rpc('tool-runner', 'tool.preview.check.v1', toolV1.PreviewCheckRequestSchema, toolV1.PreviewCheckResultSchema),
  previewScreenshot: rpc('tool-runner', 'tool.preview.screenshot.v1', toolV1.PreviewScreenshotRequestSchema, toolV1.PreviewScreenshotResponseSchema),
  previewScreenshotSave: rpc('tool-runner', 'tool.screenshot.save.v1', toolV1.PreviewScreenshotSaveRequestSchema, toolV1.PreviewScreenshotSaveResponseSchema),
  // Asked by tool-runner's preview and image tools; served by their owners.
  analyticsConsoleRead: rpc('analytics', 'analytics.console.read.v1', analyticsV1.ConsoleLogsReadRequestSchema, analyticsV1.ConsoleLogsReadResponseSchema),
  analyticsNetworkRead: rpc(
    'analytics',
    'analytics.network.read.v1',
    analyticsV1.NetworkRequestsReadRequestSchema,
    analyticsV1.NetworkRequestsReadResponseSchema,
  ),
  analyticsReportRead: rpc(
    'analytics',
    'analytics.report.read.v1',
    analyticsV1.AnalyticsReportReadRequestSchema,
    analyticsV1.AnalyticsReportReadResponseSchema,
  ),
  aiImageGenerate: rpc('ai-router', 'ai.image.generate.v1', aiV1.ImageGenerateRequestSchema, aiV1.ImageGenerateResponseSchema),
  aiImageEdit: rpc('ai-router', 'ai.image.edit.v1', aiV1.ImageEditRequestSchema, aiV1.ImageEditResponseSchema),

  gitRepoInit: rpc('git-service', 'git.repo.init.v1', gitV1.RepoInitRequestSchema, gitV1.RepoInitResponseSchema),
  gitRepoCommit: rpc('git-service', 'git.repo.commit.v1', gitV1.RepoCommitRequestSchema, gitV1.RepoCommitResponseSchema),
  gitRepoLog: rpc('git-service', 'git.repo.log.v1', gitV1.RepoLogRequestSchema, gitV1.RepoLogResponseSchema),
  gitRepoStatus: rpc('git-service', 'git.repo.status.v1', gitV1.RepoStatusRequestSchema, gitV1.RepoStatusResponseSchema),
  gitRepoHead: rpc('git-service', 'git.repo.head.v1', gitV1.RepoHeadRequestSchema, gitV1.RepoHeadResponseSchema),
  gitRepoDiff: rpc('git-service', 'git.repo.diff.v1', gitV1.RepoDiffRequestSchema, gitV1.RepoDiffResponseSchema),
  gitRepoRestore: rpc('git-service', 'git.repo.restore.v1', gitV1.RepoRestoreRequestSchema, gitV1.RepoRestoreResponseSchema),
  gitRepoCompare: rpc('git-service', 'git.repo.compare.v1', gitV1.RepoCompareRequestSchema, gitV1.RepoCompareResponseSchema),
  gitRepoClone: rpc('git-service', 'git.repo.clone.v1', gitV1.RepoCloneRequestSchema, gitV1.RepoCloneResponseSchema),
  gitRepoPush: rpc('git-service', 'git.repo.push.v1', gitV1.RepoPushRequestSchema, gitV1.RepoPushResponseSchema),
  gitRepoCleanup: rpc('git-service', 'git.repo.cleanup.v1', gitV1.RepoCleanupRequestSchema, gitV1.RepoCleanupResponseSchema),
  gitRepoReset: rpc('git-service', 'git.repo.reset.v1', gitV1.RepoResetRequestSchema, gitV1.RepoResetResponseSchema),
  gitFileShow: rpc('git-service', 'git.file.show.v1', gitV1.FileShowRequestSchema, gitV1.FileShowResponseSchema),
  gitTreeList: rpc('git-service', 'git.tree.list.v1', gitV1.TreeListRequestSchema, gitV1.TreeListResponseSchema),
  gitWorktreeList: rpc('git-service', 'git.worktree.list.v1', gitV1.WorktreeListRequestSchema, gitV1.WorktreeListResponseSchema),
  gitBranchCreate: rpc('git-service', 'git.branch.create.v1', gitV1.BranchCreateRequestSchema, gitV1.BranchCreateResponseSchema),
  gitBranchList: rpc('git-service', 'git.branch.list.v1', gitV1.BranchListRequestSchema, gitV1.BranchListResponseSchema),
  gitBranchSwitch: rpc('git-service', 'git.branch.switch.v1', gitV1.BranchSwitchRequestSchema, gitV1.BranchSwitchResponseSchema),
  gitBranchDelete: rpc('git-service', 'git.branch.delete.v1', gitV1.BranchDeleteRequestSchema, gitV1.BranchDeleteResponseSchema),
  gitBookmarkCreate: rpc('git-service', 'git.bookmark.create.v1', gitV1.BookmarkCreateRequestSchema, gitV1.BookmarkCreateResponseSchema),
  gitBookmarkList: rpc('git-service', 'git.bookmark.list.v1', gitV1.BookmarkListRequestSchema, gitV1.BookmarkListResponseSchema),
  gitBookmarkDelete: rpc('git-service', 'git.bookmark.delete.v1', gitV1.BookmarkDeleteRequestSchema, gitV1.BookmarkDeleteResponseSchema),

  analyticsEventCount: rpc('analytics', 'analytics.event.count.v1', analyticsV1.EventCountRequestSchema, analyticsV1.EventCountResponseSchema),
  analyticsEventSecretScan: rpc(
    'analytics',
    'analytics.event.secretscan.v1',
    analyticsV1.EventSecretScanRequestSchema,
    analyticsV1.EventSecretScanResponseSchema,
  ),
  analyticsToolStatsRead: rpc('analytics', 'analytics.toolstats.read.v1', analyticsV1.ToolStatsReadRequestSchema, analyticsV1.ToolStatsReadResponseSchema),
  analyticsAiUsageDaily: rpc('analytics', 'analytics.aiusage.daily.v1', analyticsV1.AiUsageDailyReadRequestSchema, analyticsV1.AiUsageDailyReadResponseSchema),
  // Business figures: daily aggregates of the stored facts, their rebuild, and the monthly reports.
  analyticsBusinessRead: rpc('analytics', 'analytics.business.read.v1', analyticsV1.BusinessReadRequestSchema, analyticsV1.BusinessReadResponseSchema),
  analyticsPerformanceRead: rpc(
    'analytics',
    'analytics.performance.read.v1',
    analyticsV1.PerformanceReadRequestSchema,
    analyticsV1.PerformanceReadResponseSchema,
  ),
  analyticsAggregatesRebuild: rpc(
    'analytics',
    'analytics.aggregates.rebuild.v1',
    analyticsV1.AggregatesRebuildRequestSchema,
    analyticsV1.AggregatesRebuildResponseSchema,
  ),
  analyticsProbeGet: rpc('analytics', 'analytics.probe.get.v1', analyticsV1.ProbeGetRequestSchema, analyticsV1.ProbeGetResponseSchema),

  backupCatalogList: rpc('backup', 'backup.catalog.list.v1', backupV1.BackupListRequestSchema, backupV1.BackupListResponseSchema),
  backupArchiveCreate: rpc('backup', 'backup.archive.create.v1', backupV1.BackupCreateRequestSchema, backupV1.BackupGetResponseSchema),
  backupArchiveGet: rpc('backup', 'backup.archive.get.v1', backupV1.BackupGetRequestSchema, backupV1.BackupGetResponseSchema),
  backupArchiveVerify: rpc('backup', 'backup.archive.verify.v1', backupV1.BackupVerifyRequestSchema, backupV1.BackupVerifyResponseSchema),
  backupArchiveRestore: rpc('backup', 'backup.archive.restore.v1', backupV1.BackupRestoreRequestSchema, backupV1.BackupRestoreResponseSchema),
  backupArchivePrune: rpc('backup', 'backup.archive.prune.v1', backupV1.BackupPruneRequestSchema, backupV1.BackupPruneResponseSchema),
  backupDrillRun: rpc('backup', 'backup.drill.run.v1', backupV1.BackupDrillRequestSchema, backupV1.BackupDrillResponseSchema),
  databaseMaintain: rpc('backup', 'backup.database.maintain.v1', backupV1.DatabaseMaintainRequestSchema, backupV1.DatabaseMaintainResponseSchema),
  securityAudit: rpc('backup', 'backup.security.audit.v1', backupV1.SecurityAuditRequestSchema, backupV1.SecurityAuditResponseSchema),
} as const;

export const HealthPing: Record<ServiceName, RpcDefinition<typeof commonV1.HealthPingRequestSchema, typeof commonV1.HealthPingResponseSchema>> = {
  gateway: healthPing('gateway'),
  orchestrator: healthPing('orchestrator'),
  'ai-router': healthPing('ai-router'),
  'tool-runner': healthPing('tool-runner'),
  'git-service': healthPing('git-service'),
  analytics: healthPing('analytics'),
  backup: healthPing('backup'),
};

const allRpcs: RpcDefinition[] = [...Object.values(Rpc), ...Object.values(HealthPing)];
const rpcsBySubject = new Map(allRpcs.map((def) => [def.subject, def]));
if (rpcsBySubject.size !== allRpcs.length) throw new Error('duplicate subject in the registry');

export function rpcForSubject(subject: string): RpcDefinition | undefined {
  return rpcsBySubject.get(subject);
}

export function rpcsOwnedBy(owner: ServiceName): RpcDefinition[] {
  return allRpcs.filter((def) => def.owner === owner);
}

// JetStream: durable work and facts.
export interface EventDefinition<Msg extends DescMessage = DescMessage> {
  readonly subject: string;
  readonly stream: string;
  readonly message: Msg;
}

export const Streams = {
  RUNS: { name: 'RUNS', subjects: ['run.requested.v1'], workQueue: true },
  // GitHub webhook deliveries on their way to becoming tasks.
  TASKS: { name: 'TASKS', subjects: ['tasks.>'], workQueue: true },
  EVENTS: { name: 'EVENTS', subjects: ['events.>'], workQueue: false },
} as const;

export const Events = {
  runRequested: { subject: 'run.requested.v1', stream: Streams.RUNS.name, message: orchestratorV1.RunRequestedSchema },
  githubDeliveryReceived: { subject: 'tasks.delivery.v1', stream: Streams.TASKS.name, message: orchestratorV1.GitHubDeliveryReceivedSchema },
  runFinished: { subject: 'events.run.finished.v1', stream: Streams.EVENTS.name, message: orchestratorV1.RunFinishedSchema },
  toolExecuted: { subject: 'events.tool.executed.v1', stream: Streams.EVENTS.name, message: toolV1.ToolExecutedSchema },
  previewConsoleLogged: { subject: 'events.preview.console.v1', stream: Streams.EVENTS.name, message: analyticsV1.PreviewConsoleLoggedSchema },
  previewNetworkRequested: { subject: 'events.preview.network.v1', stream: Streams.EVENTS.name, message: analyticsV1.PreviewNetworkRequestedSchema },
  previewPageViewed: { subject: 'events.preview.pageview.v1', stream: Streams.EVENTS.name, message: analyticsV1.PreviewPageViewedSchema },
  // The ai.usage.recorded.v1: one per model call, with tokens, cost and attempts.
  aiUsageRecorded: { subject: 'events.aiusage.recorded.v1', stream: Streams.EVENTS.name, message: aiV1.UsageRecordedSchema },
  auditRecorded: { subject: 'events.audit.recorded.v1', stream: Streams.EVENTS.name, message: gatewayV1.AuditRecordedSchema },
  // A test fact the CLI publishes (`analytics test`): stored and aggregated, left out of reports.
  analyticsProbe: { subject: 'events.analytics.probe.v1', stream: Streams.EVENTS.name, message: analyticsV1.AnalyticsProbeSchema },
  securityAudited: { subject: 'events.security.audited.v1', stream: Streams.EVENTS.name, message: backupV1.SecurityAuditedSchema },
} as const satisfies Record<string, EventDefinition>;

// Facts on the EVENTS stream, every one stored by analytics once per event id (its msg-id).
export function factEvents(): EventDefinition[] {
  return Object.values(Events).filter((def) => def.stream === Streams.EVENTS.name);
}

// Live progress of one run on core NATS (not persisted: the steps are, in Postgres).
export function runEventsSubject(runId: string): string {
  return `run.events.${runId}`;
}

// Progress of one long backup step (verify, restore, drill) on core NATS; the caller subscribes
// before asking and names the subject in the request. Outside the `backup.` request namespace.
export function backupProgressSubject(operationId: string): string {
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(operationId)) throw new Error('an operation id is 8-64 letters, digits, _ or -');
  return `backupprogress.${operationId}`;
}

// Progress of `git reset` over every repository, like backupProgressSubject().
export function gitProgressSubject(operationId: string): string {
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(operationId)) throw new Error('an operation id is 8-64 letters, digits, _ or -');
  return `gitprogress.${operationId}`;
}

// SQL logging switched at run time, to every replica of one service (core NATS, no queue group:
// each replica answers for itself with commonV1.SqlLoggingSetResponse).
export function sqlLoggingSubject(service: ServiceName): string {
  return `sqllogging.${service}`;
}

// One streamed completion's chunks on core NATS (ai.completion.stream.v1); the caller
// subscribes before asking. Not a request-reply subject, so outside the `ai.` namespace.
export function aiStreamChunkSubject(streamId: string): string {
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(streamId)) throw new Error('a stream id is 8-64 letters, digits, _ or -');
  return `aistream.chunk.${streamId}`;
}
