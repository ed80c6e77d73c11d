// The public API's shapes, as documented at /api/documentation.
export type Role = 'owner' | 'admin' | 'member' | 'viewer';

export interface Session {
  teamId: string;
  keyId: string;
  keyPrefix: string;
  role: Role;
  scopes: string[];
  operator: boolean;
  csrfToken: string | null;
  expiresAt: string | null;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface App {
  id: string;
  name: string;
  description: string;
  template: string;
  maxIterations: number;
  createdAt: string;
  updatedAt: string;
}

export interface ChatMessage {
  id: string;
  role: string;
  content: string;
  authorId: string | null;
  runId: string | null;
  createdAt: string;
}

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'unknown';

export interface RunStep {
  seq: number;
  kind: string;
  summary: string;
  createdAt: string;
}

export interface Run {
  id: string;
  appId: string;
  status: RunStatus;
  error: { code: string; message: string } | null;
  commitSha: string | null;
  iterations: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  createdAt: string;
  finishedAt: string | null;
  steps: RunStep[];
}

export interface MessageAccepted {
  messageId: string;
  runId: string;
  runUrl: string;
  eventsUrl: string;
  // True when this answers an earlier post with the same Idempotency-Key.
  replayed: boolean;
}

export interface FileTree {
  appId: string;
  ref: string;
  entries: Array<{ path: string; type: 'file' | 'directory'; sizeBytes: number | null }>;
  truncated: boolean;
}

export interface FileContent {
  path: string;
  ref: string | null;
  encoding: 'utf8' | 'base64';
  content: string;
  sizeBytes: number;
}

export interface Version {
  sha: string;
  message: string;
  authorName: string;
  committedAt: string;
  parentShas: string[];
  restoredFrom: string | null;
}

export interface DiffFile {
  path: string;
  oldPath: string | null;
  change: string;
  additions: number;
  deletions: number;
  binary: boolean;
  patch: string | null;
  patchTruncated: boolean;
}

export interface VersionDiff {
  fromSha: string;
  toSha: string;
  filesChanged: number;
  additions: number;
  deletions: number;
  files: DiffFile[];
}

export interface VersionRestored {
  sha: string;
  created: boolean;
  restoredFrom: string;
  filesChanged: number;
  savedPendingSha: string | null;
}

export interface ApiKey {
  id: string;
  prefix: string;
  teamId: string;
  role: Role;
  name: string;
  scopes: string[];
  userEmail: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  rotatedAt: string | null;
  replacedBy: string | null;
  status: 'active' | 'expired' | 'revoked' | 'rotating';
}

export interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  teamId: string;
  role: string;
  name: string;
  scopes: string[];
  expiresAt: string | null;
}

export interface AuditEntry {
  id: string;
  occurredAt: string;
  actor: string | null;
  keyPrefix: string | null;
  action: string;
  target: string | null;
  ip: string;
  result: string;
  status: number;
  correlationId: string;
}

export interface AdminStatus {
  status: 'ok' | 'error';
  service: string;
  uptimeSeconds: number;
  checks: Record<string, { status: 'up' | 'down'; latencyMs: number; error?: string }>;
}

export interface PreviewCheck {
  sha: string;
  outcome: 'passed' | 'failed' | 'unavailable';
  consoleErrors: string[];
  pageErrors: string[];
  failedRequests: string[];
  blank: boolean;
  loadMs: number;
  screenshotUrl: string | null;
  reason: string | null;
  checkedAt: string;
}

export interface Preview {
  appId: string;
  previewId: string;
  url: string | null;
  mode: 'static' | 'dev-server';
  state: 'installing' | 'starting' | 'running' | 'crashed' | 'stopped';
  reason: string | null;
  lastCheck: PreviewCheck | null;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface PreviewLogEntry {
  source: 'console' | 'network';
  level: LogLevel;
  message: string;
  location: string | null;
  pageUrl: string;
  occurredAt: string;
}

export interface Backup {
  id: string;
  type: string;
  status: string;
  fileName: string | null;
  sizeBytes: number;
  sha256: string | null;
  encrypted: boolean;
  trigger: string;
  createdAt: string;
  finishedAt: string | null;
  error: string | null;
  verifiedAt: string | null;
  verifyError: string | null;
  drill: { result: string; at: string; rtoMs: number; detail: string } | null;
}

export interface BackupWithManifest extends Backup {
  manifest: Record<string, unknown> | null;
}

export interface AiUsage {
  teamId: string;
  day: string;
  requests: number;
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number };
  costUsd: number;
  budgetUsd: number;
  committedUsd: number;
  cacheHits: number;
}

export interface AiStatus {
  activeAlias: string;
  aliases: Array<{ alias: string; provider: string; model: string }>;
  breakers: Array<{ model: string; state: string; consecutiveFailures: number; openedAt: string | null }>;
  config: { source: string; loadedAt: string; priceTableVersion: string };
}

export type AnswerMode = 'pull_request' | 'comment' | 'auto';

export interface ProjectLabels {
  trigger: string;
  processing: string;
  awaitingResponse: string;
  completed: string;
  failed: string;
}

export interface Project {
  id: string;
  repository: string;
  auth: { kind: 'token' | 'app'; appId: number | null; installationId: number | null };
  labels: ProjectLabels;
  priorityLabels: Array<{ label: string; priority: number }>;
  baseBranch: string;
  answerMode: AnswerMode | string;
  concurrency: number;
  permissions: string[];
  createdAt: string;
  updatedAt: string;
}

export type TaskStatus = 'queued' | 'running' | 'awaiting_response' | 'completed' | 'failed' | 'cancelled';

export interface Task {
  id: string;
  projectId: string;
  repository: string;
  issueNumber: number;
  title: string;
  status: TaskStatus;
  priority: number;
  branch: string;
  pendingFollowUps: number;
  // The agent run working (or that worked) the task; a retry may start another.
  runId: string | null;
  pullNumber: number | null;
  // The pull request or comment that answered the issue.
  answerUrl: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  attempts: number;
  createdAt: string;
  updatedAt: string;
}

export interface AiUsageTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
}

export interface AiUsageDaily {
  from: string;
  to: string;
  totals: AiUsageTotals;
  days: Array<{ day: string } & AiUsageTotals>;
  apps: Array<{ appId: string | null } & AiUsageTotals>;
  cells: Array<{ day: string; appId: string | null } & AiUsageTotals>;
}
