import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763769600000 implements MigrationInterface {
  name = 'InitialSchema1763769600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "orchestrator"."apps" (
      "id" uuid PRIMARY KEY, "team_id" uuid NOT NULL, "name" varchar(200) NOT NULL, "description" text NOT NULL DEFAULT '',
      "template" varchar(50) NOT NULL, "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX "apps_team_created" ON "orchestrator"."apps" ("team_id", "created_at", "id")`);
    await q.query(`CREATE TABLE "orchestrator"."messages" (
      "id" uuid PRIMARY KEY, "app_id" uuid NOT NULL REFERENCES "orchestrator"."apps"("id") ON DELETE CASCADE, "team_id" uuid NOT NULL,
      "role" varchar(20) NOT NULL, "content" text NOT NULL, "author_id" varchar(100) NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX "messages_app_created" ON "orchestrator"."messages" ("app_id", "created_at")`);
    await q.query(`CREATE TABLE "orchestrator"."runs" (
      "id" uuid PRIMARY KEY, "app_id" uuid NOT NULL REFERENCES "orchestrator"."apps"("id") ON DELETE CASCADE, "team_id" uuid NOT NULL,
      "message_id" uuid NOT NULL REFERENCES "orchestrator"."messages"("id") ON DELETE CASCADE, "status" varchar(20) NOT NULL,
      "error_code" varchar(64), "error_message" text, "commit_sha" varchar(64), "iterations" int NOT NULL DEFAULT 0,
      "created_at" timestamptz NOT NULL DEFAULT now(), "started_at" timestamptz, "finished_at" timestamptz)`);
    await q.query(`CREATE INDEX "runs_app_created" ON "orchestrator"."runs" ("app_id", "created_at")`);
    await q.query(`CREATE TABLE "orchestrator"."run_steps" (
      "id" uuid PRIMARY KEY, "run_id" uuid NOT NULL REFERENCES "orchestrator"."runs"("id") ON DELETE CASCADE, "seq" int NOT NULL,
      "kind" varchar(30) NOT NULL, "summary" text NOT NULL, "data" jsonb NOT NULL DEFAULT '{}', "created_at" timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT "run_steps_run_seq" UNIQUE ("run_id", "seq"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "orchestrator"."run_steps"`);
    await q.query(`DROP TABLE "orchestrator"."runs"`);
    await q.query(`DROP TABLE "orchestrator"."messages"`);
    await q.query(`DROP TABLE "orchestrator"."apps"`);
  }
}
