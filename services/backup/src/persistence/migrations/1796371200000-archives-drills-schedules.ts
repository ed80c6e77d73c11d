import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ArchivesDrillsSchedules1796371200000 implements MigrationInterface {
  name = 'ArchivesDrillsSchedules1796371200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "backup"."backups"
      ADD COLUMN "file_name" text NOT NULL DEFAULT '',
      ADD COLUMN "copy_path" text NOT NULL DEFAULT '',
      ADD COLUMN "error" text NOT NULL DEFAULT '',
      ADD COLUMN "manifest" jsonb,
      ADD COLUMN "trigger" varchar(20) NOT NULL DEFAULT 'manual',
      ADD COLUMN "heartbeat_at" timestamptz,
      ADD COLUMN "progress_bytes" bigint NOT NULL DEFAULT 0,
      ADD COLUMN "verified_at" timestamptz,
      ADD COLUMN "verify_error" text NOT NULL DEFAULT '',
      ADD COLUMN "drilled_at" timestamptz,
      ADD COLUMN "drill_ok" boolean,
      ADD COLUMN "drill_rto_ms" integer,
      ADD COLUMN "drill_detail" text NOT NULL DEFAULT '',
      ADD COLUMN "deleted_at" timestamptz`);
    await q.query(`CREATE INDEX "backups_running" ON "backup"."backups" ("heartbeat_at") WHERE "status" = 'running'`);
    // One row per (job, due time): the replica whose insert wins runs it, the others skip.
    await q.query(`CREATE TABLE "backup"."schedule_runs" (
      "job" varchar(40) NOT NULL, "due_at" timestamptz NOT NULL, "replica" text NOT NULL, "claimed_at" timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY ("job", "due_at"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "backup"."schedule_runs"`);
    await q.query(`DROP INDEX "backup"."backups_running"`);
    await q.query(`ALTER TABLE "backup"."backups"
      DROP COLUMN "file_name", DROP COLUMN "copy_path", DROP COLUMN "error", DROP COLUMN "manifest", DROP COLUMN "trigger",
      DROP COLUMN "heartbeat_at", DROP COLUMN "progress_bytes", DROP COLUMN "verified_at", DROP COLUMN "verify_error", DROP COLUMN "drilled_at",
      DROP COLUMN "drill_ok", DROP COLUMN "drill_rto_ms", DROP COLUMN "drill_detail", DROP COLUMN "deleted_at"`);
  }
}
