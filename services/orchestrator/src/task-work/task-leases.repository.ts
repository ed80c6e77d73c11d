import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { MessageEntity, RunEntity, TaskEntity, TaskFollowUpEntity, type TaskStatusName } from '../persistence/entities';
import { hydratedEntities, preparedQuery } from '../persistence/prepared-query';

// Every claim takes this transaction-scoped lock first, so concurrent claims (any replica) are
// serialized and each one counts the running tasks the previous one committed.
const CLAIM_LOCK = 7_264_012;
// The scheduler's claim (orchestrator.claim_next_task) and a running task's lease renewal, made
// once a second by every replica and every few seconds by every task: named prepared statements.
const CLAIM_NEXT_TASK = { name: 'orchestrator.tasks.claim-next', text: `SELECT * FROM "orchestrator"."claim_next_task"($1, $2, $3, $4)` };
const RENEW_TASK_LEASE = {
  name: 'orchestrator.tasks.renew-lease',
  text: `UPDATE "orchestrator"."tasks" SET lease_until = now() + ($3 * interval '1 millisecond') WHERE id = $1 AND lease_owner = $2 AND status = 'running'
         RETURNING cancel_requested_at`,
};

export type TaskFields = Partial<
  Pick<TaskEntity, 'appId' | 'baseSha' | 'statusCommentId' | 'answerCommentId' | 'pullNumber' | 'answerUrl' | 'errorCode' | 'errorMessage' | 'answeredRunId'>
>;

const COLUMNS: Record<keyof TaskFields, string> = {
  appId: 'app_id',
  baseSha: 'base_sha',
  statusCommentId: 'status_comment_id',
  answerCommentId: 'answer_comment_id',
  pullNumber: 'pull_number',
  answerUrl: 'answer_url',
  errorCode: 'error_code',
  errorMessage: 'error_message',
  answeredRunId: 'answered_run_id',
};

// Leases of tasks, as runs have them: a task is worked by the replica whose lease is live, every
// write is fenced by it, and a lapsed lease lets another replica take the task over.
@Injectable()
export class TaskLeasesRepository {
  constructor(private readonly dataSource: DataSource) {}

  // The next task to work, in priority order across projects (oldest first within a priority):
  // queued, or running under a lapsed lease (its replica died). Never past the project's
  // concurrency or the global cap, counting the tasks whose lease is live.
  async claimNext(owner: string, leaseMs: number, maxRunning: number): Promise<TaskEntity | undefined> {
    const rows = await preparedQuery<Record<string, unknown>>(this.dataSource, CLAIM_NEXT_TASK, [CLAIM_LOCK, owner, leaseMs, maxRunning]);
    return hydratedEntities(this.dataSource, TaskEntity, rows)[0];
  }

  async renew(id: string, owner: string, leaseMs: number): Promise<{ held: boolean; cancelRequested: boolean }> {
    const rows = await preparedQuery<{ cancel_requested_at: Date | null }>(this.dataSource, RENEW_TASK_LEASE, [id, owner, leaseMs]);
    return { held: rows.length > 0, cancelRequested: !!rows[0]?.cancel_requested_at };
  }

  // Fenced: false = this replica no longer holds the task.
  async record(id: string, owner: string, fields: TaskFields): Promise<boolean> {
    const entries = Object.entries(fields) as Array<[keyof TaskFields, unknown]>;
    const sets = entries.map(([k], i) => `"${COLUMNS[k]}" = $${i + 3}`).join(', ');
    const result = await this.dataSource.query(
      `UPDATE "orchestrator"."tasks" SET ${sets}, updated_at = now() WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
      [id, owner, ...entries.map(([, v]) => v)],
    );
    return rowCount(result) > 0;
  }

  // The task's next run and its request, in one transaction with the task row (fenced), so a
  // crash never leaves a run the task does not know about. The follow-ups ready by now are given
  // to this run (the request is written from them). `previousRunId` is the run the task has now
  // (null for its first): another replica having attached one meanwhile makes this a no-op.
  async attachRun(
    task: TaskEntity,
    owner: string,
    appId: string,
    previousRunId: string | null,
    request: (followUps: TaskFollowUpEntity[]) => string,
  ): Promise<string | undefined> {
    const messageId = randomUUID();
    const runId = randomUUID();
    return this.dataSource.transaction(async (tx) => {
      const held = await tx.query(
        `SELECT id FROM "orchestrator"."tasks" WHERE id = $1 AND lease_owner = $2 AND status = 'running' AND run_id IS NOT DISTINCT FROM $3 FOR UPDATE`,
        [task.id, owner, previousRunId],
      );
      if ((held as unknown[]).length === 0) return undefined;
      const followUps = await tx
        .getRepository(TaskFollowUpEntity)
        .createQueryBuilder('f')
        .where('f.task_id = :taskId AND f.run_id IS NULL AND f.ready_at <= now()', { taskId: task.id })
        .orderBy('f.created_at', 'ASC')
        .getMany();
      const content = request(followUps);
      await tx.insert(MessageEntity, { id: messageId, appId, teamId: task.teamId, role: 'user', content, authorId: `github-issue:${task.issueNumber}`, runId });
      await tx.insert(RunEntity, { id: runId, appId, teamId: task.teamId, messageId, status: 'queued', iterations: 0 });
      if (followUps.length > 0) {
        await tx.query(`UPDATE "orchestrator"."task_follow_ups" SET run_id = $2 WHERE id = ANY($1::uuid[])`, [followUps.map((f) => f.id), runId]);
      }
      await tx.query(
        `UPDATE "orchestrator"."tasks" SET run_id = $2, pending_follow_ups = GREATEST(0, pending_follow_ups - $3), updated_at = now()
        WHERE id = $1`,
        [task.id, runId, followUps.length],
      );
      return runId;
    });
  }

  // The final state, only by the replica holding the task. A task that answered while a
  // follow-up came in is queued again instead (the row's own count decides, under its lock).
  async finish(id: string, owner: string, status: TaskStatusName, fields: TaskFields = {}): Promise<boolean> {
    const entries = Object.entries(fields) as Array<[keyof TaskFields, unknown]>;
    const sets = entries.map(([k], i) => `, "${COLUMNS[k]}" = $${i + 4}`).join('');
    const again = `$3::varchar IN ('completed', 'awaiting_response') AND pending_follow_ups > 0`;
    const result = await this.dataSource.query(
      `UPDATE "orchestrator"."tasks" SET status = CASE WHEN ${again} THEN 'queued' ELSE $3::varchar END, lease_owner = NULL, lease_until = NULL,
         finished_at = CASE WHEN ${again} THEN NULL ELSE now() END, attempts = CASE WHEN ${again} THEN 0 ELSE attempts END, updated_at = now()${sets}
        WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
      [id, owner, status, ...entries.map(([, v]) => v)],
    );
    return rowCount(result) > 0;
  }

  // Given back until `notBefore` (GitHub's quota is low or held): another claim takes it then.
  async defer(id: string, owner: string, notBefore: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE "orchestrator"."tasks" SET lease_until = now() - interval '1 second', not_before = $3, updated_at = now()
        WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
      [id, owner, notBefore],
    );
  }

  // Given back without an end (this replica stops, or hit trouble of its own): claimable again at once.
  async release(id: string, owner: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE "orchestrator"."tasks" SET lease_until = now() - interval '1 second' WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
      [id, owner],
    );
  }
}

function rowCount(result: unknown): number {
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}
