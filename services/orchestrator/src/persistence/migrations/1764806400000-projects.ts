import type { MigrationInterface, QueryRunner } from 'typeorm';

// GitHub projects: one row per team and repository; the credential is stored sealed.
export class Projects1764806400000 implements MigrationInterface {
  name = 'Projects1764806400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "orchestrator"."projects" (
      "id" uuid PRIMARY KEY, "team_id" uuid NOT NULL, "repository" varchar(200) NOT NULL, "auth_kind" varchar(10) NOT NULL,
      "github_app_id" bigint NOT NULL DEFAULT 0, "installation_id" bigint NOT NULL DEFAULT 0, "secret" text NOT NULL,
      "labels" jsonb NOT NULL, "priority_labels" jsonb NOT NULL, "base_branch" varchar(255) NOT NULL, "answer_mode" varchar(20) NOT NULL,
      "concurrency" int NOT NULL, "permissions" jsonb NOT NULL DEFAULT '[]', "poll_etag" varchar(200), "polled_at" timestamptz,
      "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "projects_auth_kind" CHECK ("auth_kind" IN ('token', 'app')),
      CONSTRAINT "projects_concurrency" CHECK ("concurrency" BETWEEN 1 AND 64))`);
    await q.query(`CREATE UNIQUE INDEX "projects_team_repository" ON "orchestrator"."projects" ("team_id", "repository")`);
    await q.query(`CREATE INDEX "projects_repository" ON "orchestrator"."projects" (lower("repository"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "orchestrator"."projects"`);
  }
}
