import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { TaskEntity, TaskFollowUpEntity } from '../persistence/entities';
import type { FollowUpEvent } from './follow-up-events';

export type NewFollowUp = Pick<FollowUpEvent, 'source' | 'sourceId' | 'author' | 'body' | 'pullNumber' | 'reviewCommentId'>;

// The task a follow-up belongs to: the issue's active task, else its latest; for the pull
// request, the task that opened it.
async function targetOf(m: EntityManager, projectId: string, where: { issueNumber?: number; pullNumber?: number }): Promise<TaskEntity | null> {
  const qb = m.getRepository(TaskEntity).createQueryBuilder('t').where('t.project_id = :projectId', { projectId });
  if (where.issueNumber !== undefined) qb.andWhere('t.issue_number = :n', { n: where.issueNumber });
  else if (where.pullNumber !== undefined) qb.andWhere('t.pull_number = :n', { n: where.pullNumber });
  else return null;
  return qb.orderBy(`CASE WHEN t.status IN ('queued', 'running', 'awaiting_response') THEN 0 ELSE 1 END`).addOrderBy('t.created_at', 'DESC').limit(1).getOne();
}

@Injectable()
export class FollowUpsRepository {
  constructor(private readonly dataSource: DataSource) {}

  target(projectId: string, where: { issueNumber?: number; pullNumber?: number }): Promise<TaskEntity | null> {
    return targetOf(this.dataSource.manager, projectId, where);
  }

  // When the earliest follow-up not yet given to a run is ready; undefined = none waits.
  async nextReadyAt(taskId: string): Promise<Date | undefined> {
    const sql = `SELECT min("ready_at") AS "at" FROM "orchestrator"."task_follow_ups" WHERE "task_id" = $1 AND "run_id" IS NULL`;
    const rows = (await this.dataSource.query(sql, [taskId])) as Array<{ at: Date | null }>;
    return rows[0]?.at ?? undefined;
  }

  forRun(runId: string): Promise<TaskFollowUpEntity[]> {
    return this.dataSource.getRepository(TaskFollowUpEntity).find({ where: { runId }, order: { createdAt: 'ASC' } });
  }

  async recordReply(id: string, replyId: number): Promise<void> {
    await this.dataSource.getRepository(TaskFollowUpEntity).update({ id }, { replyId: String(replyId) });
  }
}

// Writes inside a delivery's transaction.
export class FollowUpWriter {
  constructor(private readonly m: EntityManager) {}

  target(projectId: string, where: { issueNumber?: number; pullNumber?: number }): Promise<TaskEntity | null> {
    return targetOf(this.m, projectId, where);
  }

  // Records the follow-up once (by its GitHub id) and counts it on the task, which is queued again
  // if it had ended (completed, failed) or was waiting for an answer; one still queued waits until
  // `readyAt` (the debounce). The task row is updated first: its lock orders this against the
  // worker's end, which queues the task again when it finds a follow-up counted, and it makes
  // the look-up of an earlier record of the same comment exact.
  async add(task: TaskEntity, f: NewFollowUp, readyAt: Date): Promise<'added' | 'duplicate'> {
    await this.m.query(`SELECT 1 FROM "orchestrator"."tasks" WHERE "id" = $1 FOR UPDATE`, [task.id]);
    const seen = await this.m.query(`SELECT 1 FROM "orchestrator"."task_follow_ups" WHERE "task_id" = $1 AND "source" = $2 AND "source_id" = $3`, [
      task.id,
      f.source,
      f.sourceId,
    ]);
    if ((seen as unknown[]).length > 0) return 'duplicate';
    await this.m.query(
      `UPDATE "orchestrator"."tasks" t SET "pending_follow_ups" = t."pending_follow_ups" + 1, "updated_at" = now(),
         "not_before" = CASE WHEN t."status" = 'running' THEN t."not_before" ELSE GREATEST(COALESCE(t."not_before", $2), $2) END,
         "run_id" = CASE WHEN t."status" IN ('completed', 'failed', 'awaiting_response')
           AND (SELECT r."status" FROM "orchestrator"."runs" r WHERE r."id" = t."run_id") <> 'completed' THEN NULL ELSE t."run_id" END,
         "attempts" = CASE WHEN t."status" IN ('completed', 'failed', 'awaiting_response') THEN 0 ELSE t."attempts" END,
         "lease_owner" = CASE WHEN t."status" IN ('completed', 'failed', 'awaiting_response') THEN NULL ELSE t."lease_owner" END,
         "lease_until" = CASE WHEN t."status" IN ('completed', 'failed', 'awaiting_response') THEN NULL ELSE t."lease_until" END,
         "error_code" = CASE WHEN t."status" = 'failed' THEN NULL ELSE t."error_code" END,
         "error_message" = CASE WHEN t."status" = 'failed' THEN NULL ELSE t."error_message" END,
         "finished_at" = CASE WHEN t."status" IN ('completed', 'failed', 'awaiting_response') THEN NULL ELSE t."finished_at" END,
         "started_at" = CASE WHEN t."status" IN ('completed', 'failed', 'awaiting_response') THEN NULL ELSE t."started_at" END,
         "status" = CASE WHEN t."status" IN ('completed', 'failed', 'awaiting_response') THEN 'queued' ELSE t."status" END
        WHERE t."id" = $1`,
      [task.id, readyAt],
    );
    await this.m.insert(TaskFollowUpEntity, {
      id: randomUUID(),
      taskId: task.id,
      source: f.source,
      sourceId: f.sourceId,
      author: f.author,
      body: f.body,
      reviewCommentId: f.reviewCommentId ?? null,
      pullNumber: f.pullNumber ?? null,
      readyAt,
      runId: null,
      replyId: null,
    });
    return 'added';
  }
}
