import type { MigrationInterface, QueryRunner } from 'typeorm';

// Webhook deliveries (by their GitHub id) and the tasks they become. At most one active task
// per issue and project is the database's rule (a partial unique index), so concurrent
// deliveries cannot both create one.
export class GitHubTasks1764810000000 implements MigrationInterface {
  name = 'GitHubTasks1764810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "orchestrator"."github_deliveries" (
      "delivery_id" varchar(64) PRIMARY KEY, "event" varchar(50) NOT NULL, "action" varchar(50) NOT NULL, "repository" varchar(200) NOT NULL,
      "payload" jsonb NOT NULL, "received_at" timestamptz NOT NULL DEFAULT now(), "processed_at" timestamptz, "outcome" varchar(200))`);
    await q.query(`CREATE INDEX "github_deliveries_received_at" ON "orchestrator"."github_deliveries" ("received_at")`);
    await q.query(`CREATE TABLE "orchestrator"."tasks" (
      "id" uuid PRIMARY KEY, "team_id" uuid NOT NULL, "project_id" uuid NOT NULL REFERENCES "orchestrator"."projects"("id") ON DELETE CASCADE,
      "repository" varchar(200) NOT NULL, "issue_number" int NOT NULL, "title" text NOT NULL, "status" varchar(20) NOT NULL, "priority" int NOT NULL,
      "branch" varchar(255) NOT NULL, "pending_follow_ups" int NOT NULL DEFAULT 0, "delivery_id" varchar(64) NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now())`);
    await q.query(
      `CREATE UNIQUE INDEX "tasks_one_active_per_issue" ON "orchestrator"."tasks" ("project_id", "issue_number") WHERE "status" IN ('queued', 'running', 'awaiting_response')`,
    );
    await q.query(`CREATE INDEX "tasks_project_created" ON "orchestrator"."tasks" ("project_id", "created_at")`);
    await q.query(
      `CREATE INDEX "tasks_team_active" ON "orchestrator"."tasks" ("team_id", "priority" DESC, "created_at") WHERE "status" IN ('queued', 'running')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "orchestrator"."tasks"`);
    await q.query(`DROP TABLE "orchestrator"."github_deliveries"`);
  }
}
