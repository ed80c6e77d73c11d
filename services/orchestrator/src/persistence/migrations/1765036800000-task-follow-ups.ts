import type { MigrationInterface, QueryRunner } from 'typeorm';

// Follow-ups of a task (a comment on the issue, a review or review comment on its pull request,
// the trigger label again), each recorded once by its GitHub id and bound to the run that
// answers it; the run a task last answered with, and when it may be claimed (review comments are
// debounced).
export class TaskFollowUps1765036800000 implements MigrationInterface {
  name = 'TaskFollowUps1765036800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "orchestrator"."task_follow_ups" (
      "id" uuid PRIMARY KEY,
      "task_id" uuid NOT NULL REFERENCES "orchestrator"."tasks" ("id") ON DELETE CASCADE,
      "source" varchar(20) NOT NULL,
      "source_id" varchar(64) NOT NULL,
      "author" varchar(100) NOT NULL,
      "body" text NOT NULL,
      "review_comment_id" bigint,
      "pull_number" int,
      "ready_at" timestamptz NOT NULL DEFAULT now(),
      "run_id" uuid,
      "reply_id" bigint,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "task_follow_ups_once" UNIQUE ("task_id", "source", "source_id"))`);
    await q.query(`CREATE INDEX "task_follow_ups_pending" ON "orchestrator"."task_follow_ups" ("task_id", "ready_at") WHERE "run_id" IS NULL`);
    await q.query(`ALTER TABLE "orchestrator"."tasks" ADD COLUMN "answered_run_id" uuid, ADD COLUMN "not_before" timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "orchestrator"."tasks" DROP COLUMN "answered_run_id", DROP COLUMN "not_before"`);
    await q.query(`DROP TABLE "orchestrator"."task_follow_ups"`);
  }
}
