import { Injectable } from '@nestjs/common';
import { PgState, violatesConstraint } from '@overskill/persistence';
import { randomUUID } from 'node:crypto';
import { DataSource, In, type EntityManager } from 'typeorm';
import { keysetBefore } from '../common/page-token';
import { ACTIVE_TASK_STATUSES, GitHubDeliveryEntity, ProjectEntity, TaskEntity } from '../persistence/entities';
import { FollowUpWriter } from '../task-follow-ups/follow-ups.repository';

export interface NewTask {
  teamId: string;
  projectId: string;
  repository: string;
  issueNumber: number;
  title: string;
  priority: number;
  deliveryId: string;
}

@Injectable()
export class TasksRepository {
  constructor(private readonly dataSource: DataSource) {}

  // Every team's project for the repository (GitHub's names are case-insensitive).
  projectsFor(repository: string): Promise<ProjectEntity[]> {
    return this.dataSource.getRepository(ProjectEntity).createQueryBuilder('p').where('lower(p.repository) = lower(:repository)', { repository }).getMany();
  }

  // False when the delivery id was recorded before.
  async recordDelivery(d: Pick<GitHubDeliveryEntity, 'deliveryId' | 'event' | 'action' | 'repository' | 'payload'>): Promise<boolean> {
    const rows = await this.dataSource.query(
      `INSERT INTO "orchestrator"."github_deliveries" ("delivery_id", "event", "action", "repository", "payload") VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ("delivery_id") DO NOTHING RETURNING "delivery_id"`,
      [d.deliveryId, d.event, d.action, d.repository, JSON.stringify(d.payload)],
    );
    return (rows as unknown[]).length > 0;
  }

  findDelivery(deliveryId: string): Promise<GitHubDeliveryEntity | null> {
    return this.dataSource.getRepository(GitHubDeliveryEntity).findOneBy({ deliveryId });
  }

  // Processes a delivery once: the row is locked and marked in the same transaction as the
  // tasks it creates; a delivery already processed (or being processed) is skipped.
  async processDelivery(deliveryId: string, work: (delivery: GitHubDeliveryEntity, tx: TaskWriter) => Promise<string>): Promise<string | undefined> {
    return this.dataSource.transaction(async (m) => {
      const delivery = await m
        .getRepository(GitHubDeliveryEntity)
        .createQueryBuilder('d')
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .where('d.delivery_id = :deliveryId AND d.processed_at IS NULL', { deliveryId })
        .getOne();
      if (!delivery) return undefined;
      const outcome = await work(delivery, new TaskWriter(m));
      await m.update(GitHubDeliveryEntity, { deliveryId }, { processedAt: new Date(), outcome: outcome.slice(0, 200) });
      return outcome;
    });
  }

  findForTeam(teamId: string, id: string): Promise<TaskEntity | null> {
    return this.dataSource.getRepository(TaskEntity).findOneBy({ id, teamId });
  }

  listForProject(teamId: string, projectId: string, limit: number, after?: { createdAt: Date; id: string }): Promise<TaskEntity[]> {
    const tasks = this.dataSource.getRepository(TaskEntity);
    const qb = tasks.createQueryBuilder('t').where('t.team_id = :teamId AND t.project_id = :projectId', { teamId, projectId });
    if (after) qb.andWhere(keysetBefore('t', tasks.metadata.tablePath, ':createdAt', ':id'), after);
    return qb.orderBy('t.created_at', 'DESC').addOrderBy('t.id', 'DESC').limit(limit).getMany();
  }

  // Projects whose poll is due, taken for this replica (another replica skips them until the next interval).
  async claimDuePolls(intervalMs: number, limit: number): Promise<ProjectEntity[]> {
    const rows = (await this.dataSource.query(
      `UPDATE "orchestrator"."projects" SET "polled_at" = now() WHERE "id" IN (
         SELECT "id" FROM "orchestrator"."projects" WHERE "polled_at" IS NULL OR "polled_at" < now() - ($1 * interval '1 millisecond')
         ORDER BY "polled_at" NULLS FIRST LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING "id"`,
      [intervalMs, limit],
    )) as [Array<{ id: string }>, number];
    const ids = rows[0].map((r) => r.id);
    return ids.length > 0 ? this.dataSource.getRepository(ProjectEntity).findBy({ id: In(ids) }) : [];
  }

  async savePollEtag(projectId: string, etag: string | null): Promise<void> {
    await this.dataSource.getRepository(ProjectEntity).update({ id: projectId }, { pollEtag: etag });
  }

  // Outside a delivery (the poller): one statement, same rules.
  createIfAbsent(task: NewTask): Promise<'created' | 'follow_up' | 'exists'> {
    return new TaskWriter(this.dataSource.manager).createOrFollowUp(task, false);
  }

  async queuedByProject(): Promise<Array<{ projectId: string; queued: number }>> {
    const rows = (await this.dataSource.query(
      `SELECT "project_id", count(*)::int AS "queued" FROM "orchestrator"."tasks" WHERE "status" = 'queued' GROUP BY "project_id"`,
    )) as Array<{
      project_id: string;
      queued: number;
    }>;
    return rows.map((r) => ({ projectId: r.project_id, queued: r.queued }));
  }

  // A task nobody works ends at once; a running one is marked (its replica stops its run).
  // Returns the task as it is now; null = not the team's.
  async cancel(teamId: string, id: string): Promise<TaskEntity | null> {
    await this.dataSource.query(
      `UPDATE "orchestrator"."tasks" SET cancel_requested_at = COALESCE(cancel_requested_at, now()), updated_at = now(),
         status = CASE WHEN status IN ('queued', 'awaiting_response') THEN 'cancelled' ELSE status END,
         finished_at = CASE WHEN status IN ('queued', 'awaiting_response') THEN now() ELSE finished_at END
        WHERE id = $1 AND team_id = $2 AND status IN ('queued', 'awaiting_response', 'running')`,
      [id, teamId],
    );
    return this.findForTeam(teamId, id);
  }

  // A failed or cancelled task queued again on its branch, with its workspace, pull request and
  // status comment. A run that completed is kept (only what came after it is done again).
  // 'active' = the issue has another active task; 'not_ended' = the task has not ended.
  async retry(teamId: string, id: string): Promise<'queued' | 'active' | 'not_ended'> {
    try {
      const result = await this.dataSource.query(
        `UPDATE "orchestrator"."tasks" t SET status = 'queued', lease_owner = NULL, lease_until = NULL, cancel_requested_at = NULL, error_code = NULL,
           error_message = NULL, finished_at = NULL, started_at = NULL, updated_at = now(),
           run_id = CASE WHEN (SELECT r.status FROM "orchestrator"."runs" r WHERE r.id = t.run_id) = 'completed' THEN t.run_id ELSE NULL END
          WHERE t.id = $1 AND t.team_id = $2 AND t.status IN ('failed', 'cancelled')`,
        [id, teamId],
      );
      return Array.isArray(result) && result[1] > 0 ? 'queued' : 'not_ended';
    } catch (err) {
      if (violatesConstraint(err, PgState.UNIQUE_VIOLATION)) return 'active';
      throw err;
    }
  }

  // Queued and running, highest priority first, oldest first within a priority.
  listActive(teamId: string, limit: number): Promise<TaskEntity[]> {
    return this.dataSource
      .getRepository(TaskEntity)
      .find({ where: { teamId, status: In(['queued', 'running']) }, order: { priority: 'DESC', createdAt: 'ASC' }, take: limit });
  }
}

// Writes inside a delivery's transaction.
export class TaskWriter {
  constructor(private readonly m: EntityManager) {}

  // A new task, or (the issue already has an active one) one more follow-up for it once it has
  // started; a trigger for a task still queued adds nothing (the task will read the issue).
  // Without followUp (the poller), an active task is left as it is.
  async createOrFollowUp(task: NewTask, followUp = true, sender = ''): Promise<'created' | 'follow_up' | 'exists'> {
    const active = ACTIVE_TASK_STATUSES.map((s) => `'${s}'`).join(', ');
    const onConflict = followUp ? `DO UPDATE SET "updated_at" = now()` : 'DO NOTHING';
    const rows = (await this.m.query(
      `INSERT INTO "orchestrator"."tasks" ("id", "team_id", "project_id", "repository", "issue_number", "title", "status", "priority", "branch", "delivery_id")
       VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9)
       ON CONFLICT ("project_id", "issue_number") WHERE "status" IN (${active})
       ${onConflict}
       RETURNING ("xmax" = 0) AS "inserted", "id", "status"`,
      [
        randomUUID(),
        task.teamId,
        task.projectId,
        task.repository,
        task.issueNumber,
        task.title.slice(0, 1000),
        task.priority,
        `overskill/issue-${task.issueNumber}`,
        task.deliveryId,
      ],
    )) as Array<{ inserted: boolean; id: string; status: string }>;
    const row = rows[0];
    if (!row) return 'exists';
    if (row.inserted) return 'created';
    if (row.status === 'queued') return 'follow_up';
    const existing = await this.m.getRepository(TaskEntity).findOneByOrFail({ id: row.id });
    const body = 'The trigger label was added again: read the issue once more and finish what it still asks.';
    await this.followUps().add(existing, { source: 'label', sourceId: task.deliveryId.slice(0, 64), author: sender, body }, new Date());
    return 'follow_up';
  }

  followUps(): FollowUpWriter {
    return new FollowUpWriter(this.m);
  }
}
