import type { MigrationInterface, QueryRunner } from 'typeorm';

// Tasks are worked: a lease like runs have (a replica that dies leaves its task to another), the
// workspace and run they use, and what they answered with (pull request, comment) so a resumed
// task finds its side effects instead of repeating them. A task's workspace is an app row of
// kind `task`, which the app API does not list.
export class TaskWork1764950400000 implements MigrationInterface {
  name = 'TaskWork1764950400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "orchestrator"."apps" ADD COLUMN "kind" varchar(10) NOT NULL DEFAULT 'app'`);
    await q.query(`ALTER TABLE "orchestrator"."tasks"
      ADD COLUMN "lease_owner" varchar(64), ADD COLUMN "lease_until" timestamptz, ADD COLUMN "attempts" int NOT NULL DEFAULT 0,
      ADD COLUMN "app_id" uuid, ADD COLUMN "run_id" uuid, ADD COLUMN "base_sha" varchar(64),
      ADD COLUMN "status_comment_id" bigint, ADD COLUMN "answer_comment_id" bigint, ADD COLUMN "pull_number" int, ADD COLUMN "answer_url" varchar(500),
      ADD COLUMN "error_code" varchar(64), ADD COLUMN "error_message" text, ADD COLUMN "cancel_requested_at" timestamptz,
      ADD COLUMN "started_at" timestamptz, ADD COLUMN "finished_at" timestamptz`);
    await q.query(`CREATE INDEX "tasks_schedulable" ON "orchestrator"."tasks" ("priority" DESC, "created_at") WHERE "status" IN ('queued', 'running')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "orchestrator"."tasks_schedulable"`);
    await q.query(`ALTER TABLE "orchestrator"."tasks"
      DROP COLUMN "lease_owner", DROP COLUMN "lease_until", DROP COLUMN "attempts", DROP COLUMN "app_id", DROP COLUMN "run_id", DROP COLUMN "base_sha",
      DROP COLUMN "status_comment_id", DROP COLUMN "answer_comment_id", DROP COLUMN "pull_number", DROP COLUMN "answer_url",
      DROP COLUMN "error_code", DROP COLUMN "error_message", DROP COLUMN "cancel_requested_at", DROP COLUMN "started_at", DROP COLUMN "finished_at"`);
    await q.query(`ALTER TABLE "orchestrator"."apps" DROP COLUMN "kind"`);
  }
}
