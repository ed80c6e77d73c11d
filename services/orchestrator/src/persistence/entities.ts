import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'apps' })
@Index(['teamId', 'createdAt'])
export class AppEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'team_id' }) teamId: string;
  @Column('varchar', { length: 200 }) name: string;
  @Column('text', { default: '' }) description: string;
  @Column('varchar', { length: 50 }) template: string;
  // Agent iterations per run; 0 = the service default.
  @Column('int', { name: 'max_iterations', default: 0 }) maxIterations: number;
  // The repository's first commit (from git.repo.init), the base for listing its files.
  @Column('varchar', { name: 'init_sha', length: 64, nullable: true }) initSha: string | null;
  // `task`: the workspace of a GitHub task (a clone), worked by the same loop, not listed as an app.
  @Column('varchar', { length: 10, default: 'app' }) kind: 'app' | 'task';
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

@Entity({ name: 'messages' })
export class MessageEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'app_id' }) appId: string;
  @Column('uuid', { name: 'team_id' }) teamId: string;
  @Column('varchar', { length: 20 }) role: string;
  @Column('text') content: string;
  @Column('varchar', { name: 'author_id', length: 100, default: '' }) authorId: string;
  @Column('uuid', { name: 'run_id', nullable: true }) runId: string | null;
  @Column('varchar', { name: 'idempotency_key', length: 128, nullable: true }) idempotencyKey: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

export type RunStatusName = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

@Entity({ name: 'runs' })
export class RunEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'app_id' }) appId: string;
  @Column('uuid', { name: 'team_id' }) teamId: string;
  @Column('uuid', { name: 'message_id' }) messageId: string;
  @Column('varchar', { length: 20 }) status: RunStatusName;
  @Column('varchar', { name: 'error_code', length: 64, nullable: true }) errorCode: string | null;
  @Column('text', { name: 'error_message', nullable: true }) errorMessage: string | null;
  @Column('varchar', { name: 'commit_sha', length: 64, nullable: true }) commitSha: string | null;
  @Column('int', { default: 0 }) iterations: number;
  @Column('timestamptz', { name: 'cancel_requested_at', nullable: true }) cancelRequestedAt: Date | null;
  @Column('text', { name: 'cancel_reason', nullable: true }) cancelReason: string | null;
  @Column('uuid', { name: 'enqueue_token', nullable: true }) enqueueToken: string | null;
  @Column('varchar', { name: 'lease_owner', length: 64, nullable: true }) leaseOwner: string | null;
  @Column('timestamptz', { name: 'lease_until', nullable: true }) leaseUntil: Date | null;
  // bigint and numeric arrive as strings from pg.
  @Column('bigint', { name: 'input_tokens', default: 0 }) inputTokens: string;
  @Column('bigint', { name: 'output_tokens', default: 0 }) outputTokens: string;
  @Column('numeric', { name: 'cost_usd', precision: 14, scale: 6, default: 0 }) costUsd: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt: Date | null;
}

@Entity({ name: 'run_steps' })
@Index(['runId', 'seq'], { unique: true })
export class RunStepEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'run_id' }) runId: string;
  @Column('int') seq: number;
  @Column('varchar', { length: 30 }) kind: string;
  @Column('text') summary: string;
  @Column('jsonb', { default: {} }) data: Record<string, unknown>;
  // The run status this step was published with on run.events.<runId>.
  @Column('varchar', { length: 20, default: 'running' }) status: RunStatusName;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

// Recorded before a tool call executes: on resume, a call with an intent but no result is in
// doubt and is not executed again.
@Entity({ name: 'tool_calls' })
export class ToolCallEntity {
  @PrimaryColumn('uuid', { name: 'run_id' }) runId: string;
  @PrimaryColumn('varchar', { name: 'tool_use_id', length: 200 }) toolUseId: string;
  @Column('varchar', { length: 100 }) name: string;
  @Column('text', { name: 'input_json' }) inputJson: string;
  @Column('varchar', { name: 'lease_owner', length: 64 }) leaseOwner: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

export interface ProjectLabelSet {
  trigger: string;
  processing: string;
  awaitingResponse: string;
  completed: string;
  failed: string;
}

// A GitHub repository whose labelled issues become tasks. `secret` is the token or the app's
// private key, sealed with AES-256-GCM (key id inside); it never leaves the orchestrator.
@Entity({ name: 'projects' })
@Index('projects_team_repository', ['teamId', 'repository'], { unique: true })
export class ProjectEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'team_id' }) teamId: string;
  @Column('varchar', { length: 200 }) repository: string;
  @Column('varchar', { name: 'auth_kind', length: 10 }) authKind: 'token' | 'app';
  @Column('bigint', { name: 'github_app_id', default: 0 }) githubAppId: string;
  @Column('bigint', { name: 'installation_id', default: 0 }) installationId: string;
  @Column('text') secret: string;
  @Column('jsonb') labels: ProjectLabelSet;
  @Column('jsonb', { name: 'priority_labels' }) priorityLabels: Array<{ label: string; priority: number }>;
  @Column('varchar', { name: 'base_branch', length: 255 }) baseBranch: string;
  @Column('varchar', { name: 'answer_mode', length: 20 }) answerMode: string;
  @Column('int') concurrency: number;
  @Column('jsonb', { default: [] }) permissions: string[];
  // The polling reconciler: the ETag of the last answer (an unchanged list costs no quota) and
  // when a replica last took the project's turn.
  @Column('varchar', { name: 'poll_etag', length: 200, nullable: true }) pollEtag: string | null;
  @Column('timestamptz', { name: 'polled_at', nullable: true }) polledAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

// A webhook delivery by its X-GitHub-Delivery id, kept well past JetStream's dedup window
// (GitHub's manual redelivery reuses the id days later); processed_at makes it count once.
@Entity({ name: 'github_deliveries' })
export class GitHubDeliveryEntity {
  @PrimaryColumn('varchar', { name: 'delivery_id', length: 64 }) deliveryId: string;
  @Column('varchar', { length: 50 }) event: string;
  @Column('varchar', { length: 50 }) action: string;
  @Column('varchar', { length: 200 }) repository: string;
  @Column('jsonb') payload: Record<string, unknown>;
  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' }) receivedAt: Date;
  @Column('timestamptz', { name: 'processed_at', nullable: true }) processedAt: Date | null;
  @Column('varchar', { length: 200, nullable: true }) outcome: string | null;
}

export type TaskStatusName = 'queued' | 'running' | 'awaiting_response' | 'completed' | 'failed' | 'cancelled';
// One active task per issue: a unique index over these statuses, not a check-then-insert.
export const ACTIVE_TASK_STATUSES: readonly TaskStatusName[] = ['queued', 'running', 'awaiting_response'];

@Entity({ name: 'tasks' })
export class TaskEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'team_id' }) teamId: string;
  @Column('uuid', { name: 'project_id' }) projectId: string;
  @Column('varchar', { length: 200 }) repository: string;
  @Column('int', { name: 'issue_number' }) issueNumber: number;
  @Column('text') title: string;
  @Column('varchar', { length: 20 }) status: TaskStatusName;
  @Column('int') priority: number;
  @Column('varchar', { length: 255 }) branch: string;
  @Column('int', { name: 'pending_follow_ups', default: 0 }) pendingFollowUps: number;
  @Column('varchar', { name: 'delivery_id', length: 64 }) deliveryId: string;
  // The replica working the task and until when (renewed while it works; a lapsed lease lets another resume it).
  @Column('varchar', { name: 'lease_owner', length: 64, nullable: true }) leaseOwner: string | null;
  @Column('timestamptz', { name: 'lease_until', nullable: true }) leaseUntil: Date | null;
  @Column('int', { default: 0 }) attempts: number;
  // The workspace (an app row of kind `task`), the current run, and the commit the branch started from.
  @Column('uuid', { name: 'app_id', nullable: true }) appId: string | null;
  @Column('uuid', { name: 'run_id', nullable: true }) runId: string | null;
  @Column('varchar', { name: 'base_sha', length: 64, nullable: true }) baseSha: string | null;
  // Side effects on GitHub, recorded once made: a resumed task edits them instead of adding more.
  @Column('bigint', { name: 'status_comment_id', nullable: true }) statusCommentId: string | null;
  @Column('bigint', { name: 'answer_comment_id', nullable: true }) answerCommentId: string | null;
  @Column('int', { name: 'pull_number', nullable: true }) pullNumber: number | null;
  @Column('varchar', { name: 'answer_url', length: 500, nullable: true }) answerUrl: string | null;
  @Column('varchar', { name: 'error_code', length: 64, nullable: true }) errorCode: string | null;
  @Column('text', { name: 'error_message', nullable: true }) errorMessage: string | null;
  @Column('timestamptz', { name: 'cancel_requested_at', nullable: true }) cancelRequestedAt: Date | null;
  // The run whose answer was last delivered (a later follow-up gets a new run), and the earliest
  // moment the task may be claimed (review comments arriving together are debounced).
  @Column('uuid', { name: 'answered_run_id', nullable: true }) answeredRunId: string | null;
  @Column('timestamptz', { name: 'not_before', nullable: true }) notBefore: Date | null;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

export type FollowUpSource = 'issue_comment' | 'review' | 'review_comment' | 'label';

// What someone with write access said after the task started: worked by the task's next run on
// the same branch and pull request. Recorded once per GitHub comment, review or delivery.
@Entity({ schema: 'orchestrator', name: 'task_follow_ups' })
export class TaskFollowUpEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'task_id' }) taskId: string;
  @Column('varchar', { length: 20 }) source: FollowUpSource;
  @Column('varchar', { name: 'source_id', length: 64 }) sourceId: string;
  @Column('varchar', { length: 100 }) author: string;
  @Column('text') body: string;
  // A review comment is answered by a reply in its thread.
  @Column('bigint', { name: 'review_comment_id', nullable: true }) reviewCommentId: string | null;
  @Column('int', { name: 'pull_number', nullable: true }) pullNumber: number | null;
  @Column('timestamptz', { name: 'ready_at' }) readyAt: Date;
  @Column('uuid', { name: 'run_id', nullable: true }) runId: string | null;
  @Column('bigint', { name: 'reply_id', nullable: true }) replyId: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

export const ORCHESTRATOR_ENTITIES = [
  AppEntity,
  MessageEntity,
  RunEntity,
  RunStepEntity,
  ToolCallEntity,
  ProjectEntity,
  GitHubDeliveryEntity,
  TaskEntity,
  TaskFollowUpEntity,
];
