import {
  Events,
  HealthPing,
  Rpc,
  rpcsOwnedBy,
  SERVICE_NAMES,
  sqlLoggingSubject,
  Streams,
  SUBJECT_PREFIX,
  type EventDefinition,
  type RpcDefinition,
  type ServiceName,
} from './subjects';

// Who may do what on the bus: one NATS identity per service and one for the operator CLI,
// each allowed only the subjects its role needs. nats-server's authorization config is
// generated from this table (deploy/nats), so it cannot drift from the registry above.

export type BusRole = ServiceName | 'cli';

export const BUS_ROLES: readonly BusRole[] = [...SERVICE_NAMES, 'cli'];

// A durable JetStream consumer a role reads (and acks) from.
export interface DurableConsumerGrant {
  readonly stream: string;
  readonly durable: string;
}

export interface BusRoleSpec {
  // Request-reply subjects it asks (served by other roles, or by itself).
  readonly calls: readonly RpcDefinition[];
  // Durable facts and work it publishes to JetStream.
  readonly publishes: readonly EventDefinition[];
  readonly consumes: readonly DurableConsumerGrant[];
  // Core-NATS live subjects (wildcards over run or stream ids).
  readonly livePublish: readonly string[];
  readonly liveSubscribe: readonly string[];
  // Creates or updates the platform's streams at boot (ensureStreams).
  readonly managesStreams: boolean;
}

const RUN_EVENTS = 'run.events.*';
const AI_STREAM_CHUNKS = 'aistream.chunk.*';
// backupProgressSubject(): the caller picks an unguessable id and listens before it asks.
const BACKUP_PROGRESS = 'backupprogress.*';
// gitProgressSubject(): the same, for `git reset`.
const GIT_PROGRESS = 'gitprogress.*';
const everyHealthPing = Object.values(HealthPing);
// sqlLoggingSubject(): the CLI asks every replica of a service; each subscribes to its own.
const SQL_LOGGING = 'sqllogging.*';

export const BUS_ROLE_TABLE: Record<BusRole, BusRoleSpec> = {
  gateway: {
    calls: [
      ...everyHealthPing,
      Rpc.appCreate,
      Rpc.appGet,
      Rpc.appList,
      Rpc.appUpdate,
      Rpc.appDelete,
      Rpc.messagePost,
      Rpc.messageList,
      Rpc.runGet,
      Rpc.runList,
      Rpc.runCancel,
      Rpc.runEventsList,
      Rpc.projectCreate,
      Rpc.projectGet,
      Rpc.projectList,
      Rpc.projectUpdate,
      Rpc.projectDelete,
      Rpc.githubDeliveryIngest,
      Rpc.taskList,
      Rpc.taskGet,
      Rpc.taskRunning,
      Rpc.taskCancel,
      Rpc.taskRetry,
      Rpc.aiCompletionCreate,
      Rpc.aiCompletionStream,
      Rpc.aiRouterStatus,
      Rpc.aiCacheStats,
      Rpc.aiUsageSummary,
      Rpc.aiModelSwitch,
      Rpc.analyticsConsoleRead,
      Rpc.analyticsNetworkRead,
      Rpc.analyticsToolStatsRead,
      Rpc.analyticsAiUsageDaily,
      Rpc.analyticsBusinessRead,
      Rpc.analyticsPerformanceRead,
      Rpc.previewGet,
      Rpc.previewRotate,
      Rpc.previewRestart,
      Rpc.previewScreenshot,
      Rpc.gitFileShow,
      Rpc.gitRepoDiff,
      Rpc.gitRepoLog,
      Rpc.gitRepoRestore,
      Rpc.gitTreeList,
      Rpc.backupCatalogList,
      Rpc.backupArchiveCreate,
      Rpc.backupArchiveGet,
      Rpc.backupArchiveVerify,
      Rpc.backupArchiveRestore,
      Rpc.backupDrillRun,
    ],
    publishes: [Events.auditRecorded],
    consumes: [],
    livePublish: [],
    liveSubscribe: [RUN_EVENTS, AI_STREAM_CHUNKS],
    managesStreams: false,
  },
  orchestrator: {
    calls: [
      Rpc.aiCompletionCreate,
      Rpc.toolCallExecute,
      Rpc.toolCatalogList,
      Rpc.previewCheck,
      Rpc.previewScreenshotSave,
      Rpc.gitRepoInit,
      Rpc.gitRepoCommit,
      Rpc.gitRepoDiff,
      Rpc.gitWorktreeList,
      Rpc.gitRepoRestore,
      Rpc.gitRepoHead,
      Rpc.gitRepoClone,
      Rpc.gitRepoPush,
      Rpc.gitBranchCreate,
      Rpc.gitBranchSwitch,
    ],
    publishes: [Events.runRequested, Events.githubDeliveryReceived, Events.runFinished],
    consumes: [
      { stream: Streams.RUNS.name, durable: 'orchestrator-runs' },
      { stream: Streams.TASKS.name, durable: 'orchestrator-task-deliveries' },
    ],
    livePublish: [RUN_EVENTS],
    liveSubscribe: [],
    managesStreams: true,
  },
  'ai-router': {
    calls: [],
    publishes: [Events.aiUsageRecorded],
    consumes: [],
    livePublish: [AI_STREAM_CHUNKS],
    liveSubscribe: [],
    managesStreams: true,
  },
  'tool-runner': {
    calls: [
      Rpc.aiImageGenerate,
      Rpc.aiImageEdit,
      Rpc.analyticsConsoleRead,
      Rpc.analyticsNetworkRead,
      Rpc.analyticsReportRead,
      Rpc.gitRepoCommit,
      Rpc.gitRepoDiff,
      Rpc.gitRepoLog,
      Rpc.gitRepoStatus,
      Rpc.gitRepoHead,
      Rpc.gitFileShow,
      Rpc.gitBranchCreate,
      Rpc.gitBranchList,
      Rpc.gitBranchSwitch,
      Rpc.gitBranchDelete,
    ],
    publishes: [Events.toolExecuted, Events.previewConsoleLogged, Events.previewNetworkRequested, Events.previewPageViewed],
    consumes: [],
    livePublish: [RUN_EVENTS],
    liveSubscribe: [],
    managesStreams: true,
  },
  'git-service': {
    calls: [Rpc.appIdsExist],
    publishes: [],
    consumes: [],
    livePublish: [GIT_PROGRESS],
    liveSubscribe: [],
    managesStreams: false,
  },
  analytics: {
    calls: [],
    publishes: [],
    consumes: [{ stream: Streams.EVENTS.name, durable: 'analytics-events' }],
    livePublish: [],
    liveSubscribe: [],
    managesStreams: true,
  },
  backup: {
    // The security audit's fan-out: API keys and stored facts it cannot read itself.
    calls: [Rpc.apiKeyAudit, Rpc.analyticsEventSecretScan],
    publishes: [Events.securityAudited],
    consumes: [],
    livePublish: [BACKUP_PROGRESS],
    liveSubscribe: [],
    managesStreams: false,
  },
  cli: {
    calls: [
      ...everyHealthPing,
      Rpc.apiKeyCreate,
      Rpc.apiKeyList,
      Rpc.apiKeyRotate,
      Rpc.apiKeyRevoke,
      Rpc.projectCreate,
      Rpc.projectList,
      Rpc.projectDelete,
      Rpc.taskList,
      Rpc.taskGet,
      Rpc.taskRunning,
      Rpc.taskCancel,
      Rpc.taskRetry,
      Rpc.githubRateLimit,
      Rpc.aiRouterStatus,
      Rpc.aiCacheStats,
      Rpc.aiUsageSummary,
      Rpc.aiModelSwitch,
      Rpc.aiModelTest,
      Rpc.gitRepoCleanup,
      Rpc.gitRepoReset,
      Rpc.cacheStats,
      Rpc.cacheCleanup,
      Rpc.analyticsToolStatsRead,
      Rpc.toolCatalogList,
      Rpc.backupCatalogList,
      Rpc.backupArchiveCreate,
      Rpc.backupArchiveGet,
      Rpc.backupArchiveVerify,
      Rpc.backupArchiveRestore,
      Rpc.backupArchivePrune,
      Rpc.backupDrillRun,
      Rpc.analyticsBusinessRead,
      Rpc.analyticsPerformanceRead,
      Rpc.analyticsAggregatesRebuild,
      Rpc.analyticsProbeGet,
      Rpc.securityAudit,
      Rpc.databaseMaintain,
    ],
    publishes: [Events.analyticsProbe],
    consumes: [],
    livePublish: [SQL_LOGGING],
    liveSubscribe: [BACKUP_PROGRESS, GIT_PROGRESS],
    managesStreams: false,
  },
};

// Replies to this role's requests arrive under its own inbox prefix, which no other role may
// subscribe to: one role cannot read the answers another asked for.
export function busInboxPrefix(role: string): string {
  return `_INBOX.${role}`;
}

export interface BusPermissions {
  publish: string[];
  subscribe: string[];
  // Serves request-reply: may publish one reply to each request's reply subject.
  allowResponses: boolean;
}

// The nats-server permissions of one role, derived from the table and the registry.
export function busPermissions(role: BusRole): BusPermissions {
  const spec = BUS_ROLE_TABLE[role];
  const serves = role === 'cli' ? [] : rpcsOwnedBy(role);
  const publish = new Set<string>([...spec.calls.map((def) => def.subject), ...spec.publishes.map((def) => def.subject), ...spec.livePublish]);
  const jetstream = spec.managesStreams || spec.consumes.length > 0 || spec.publishes.length > 0;
  if (jetstream) {
    // The JetStream client's account check and the readiness probe.
    publish.add('$JS.API.INFO');
  }
  if (spec.managesStreams) {
    for (const stream of Object.values(Streams)) {
      for (const verb of ['INFO', 'CREATE', 'UPDATE']) publish.add(`$JS.API.STREAM.${verb}.${stream.name}`);
    }
  }
  for (const { stream, durable } of spec.consumes) {
    publish.add(`$JS.API.CONSUMER.INFO.${stream}.${durable}`);
    publish.add(`$JS.API.CONSUMER.CREATE.${stream}.${durable}`);
    publish.add(`$JS.API.CONSUMER.CREATE.${stream}.${durable}.>`);
    publish.add(`$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${durable}`);
    publish.add(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`);
    publish.add(`$JS.ACK.${stream}.${durable}.>`);
  }
  const subscribe = new Set<string>([`${busInboxPrefix(role)}.>`, ...spec.liveSubscribe]);
  // The RPC server answers its whole namespace (unknown subjects get a coded error).
  if (role !== 'cli') subscribe.add(`${SUBJECT_PREFIX[role]}.>`);
  // Every replica of every service takes the run-time SQL logging switch for itself.
  if (role !== 'cli') subscribe.add(sqlLoggingSubject(role));
  return { publish: [...publish].sort(), subscribe: [...subscribe].sort(), allowResponses: serves.length > 0 };
}
