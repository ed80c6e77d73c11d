import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

// What task retention removes, in small batches (each a short transaction).
@Injectable()
export class TaskRetentionRepository {
  constructor(private readonly dataSource: DataSource) {}

  // Deliveries received before the cutoff; how many were removed.
  async removeDeliveriesBefore(cutoff: Date, batch: number): Promise<number> {
    const result = await this.dataSource.query(
      `DELETE FROM "orchestrator"."github_deliveries" WHERE "delivery_id" IN (
         SELECT "delivery_id" FROM "orchestrator"."github_deliveries" WHERE "received_at" < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [cutoff, batch],
    );
    return affected(result);
  }

  // Workspaces of tasks that ended before the cutoff with no follow-up waiting, and of tasks that
  // are gone (their project was removed): the workspace's app row goes (its runs and messages
  // with it), and git-service's orphan cleanup then removes the repository. A task that is
  // followed up later clones its branch again. Returns the app ids removed.
  async releaseWorkspaces(endedBefore: Date, batch: number): Promise<string[]> {
    return this.dataSource.transaction(async (tx) => {
      const ended = (await tx.query(
        `SELECT "id", "app_id" FROM "orchestrator"."tasks"
          WHERE "status" IN ('completed', 'failed', 'cancelled') AND "finished_at" < $1 AND "app_id" IS NOT NULL AND "pending_follow_ups" = 0
          LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [endedBefore, batch],
      )) as Array<{ id: string; app_id: string }>;
      if (ended.length > 0) {
        const ids = ended.map((t) => t.id);
        await tx.query(`UPDATE "orchestrator"."tasks" SET "app_id" = NULL, "base_sha" = NULL, "updated_at" = now() WHERE "id" = ANY($1::uuid[])`, [ids]);
      }
      // A task records its workspace's id before the app row is made, so an app no task names is gone for good.
      const removed = (await tx.query(
        `DELETE FROM "orchestrator"."apps" a WHERE a."id" IN (
           SELECT o."id" FROM "orchestrator"."apps" o WHERE o."kind" = 'task'
              AND (o."id" = ANY($1::uuid[]) OR NOT EXISTS (SELECT 1 FROM "orchestrator"."tasks" t WHERE t."app_id" = o."id"))
            LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING a."id"`,
        [ended.map((t) => t.app_id), batch * 2],
      )) as [Array<{ id: string }>, number];
      return removed[0].map((r) => r.id);
    });
  }
}

function affected(result: unknown): number {
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}
