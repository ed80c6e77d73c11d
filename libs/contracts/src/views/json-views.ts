import type { UsageSummaryResponse } from '../gen/overskill/ai/v1/ai_pb';
import type { Backup } from '../gen/overskill/backup/v1/backup_pb';
import type { Task } from '../gen/overskill/orchestrator/v1/orchestrator_pb';

// The JSON the API and the operator CLI both answer for a wire message: proto's empty strings
// and zeros become null, 64-bit integers plain numbers. One mapping, so the two cannot drift.

export function backupView(b: Backup) {
  return {
    id: b.id,
    type: b.kind,
    status: b.status,
    fileName: b.fileName || null,
    sizeBytes: Number(b.sizeBytes),
    sha256: b.sha256 || null,
    encrypted: b.encrypted,
    trigger: b.trigger,
    createdAt: b.createdAt,
    finishedAt: b.finishedAt || null,
    error: b.error || null,
    verifiedAt: b.verifiedAt || null,
    verifyError: b.verifyError || null,
    drill: b.drillResult ? { result: b.drillResult, at: b.drilledAt, rtoMs: Number(b.drillRtoMs), detail: b.drillDetail } : null,
  };
}

export function taskView(t: Task) {
  return {
    id: t.id,
    projectId: t.projectId,
    repository: t.repository,
    issueNumber: t.issueNumber,
    title: t.title,
    status: t.status,
    priority: t.priority,
    branch: t.branch,
    pendingFollowUps: t.pendingFollowUps,
    runId: t.runId || null,
    pullNumber: t.pullNumber || null,
    answerUrl: t.answerUrl || null,
    errorCode: t.errorCode || null,
    errorMessage: t.errorMessage || null,
    attempts: t.attempts,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  };
}

// A team's model calls on a UTC day (ai-router's ledger): calls, tokens by kind, spend and budget.
export function aiUsageSummaryView(u: UsageSummaryResponse) {
  return {
    teamId: u.teamId,
    day: u.day,
    requests: Number(u.requests),
    tokens: {
      input: Number(u.inputTokens),
      output: Number(u.outputTokens),
      cacheRead: Number(u.cacheReadInputTokens),
      cacheWrite: Number(u.cacheCreationInputTokens),
    },
    costUsd: u.costUsd,
    budgetUsd: u.budgetUsd,
    committedUsd: u.committedUsd,
    cacheHits: Number(u.cacheHits),
  };
}
