import type { MigrationInterface, QueryRunner } from 'typeorm';

// Users, key scopes and rotation, and the append-only audit log. Append-only is enforced by
// Postgres itself: a trigger refuses UPDATE, DELETE and TRUNCATE whoever the caller is.
export class IdentityAndAudit1763856000000 implements MigrationInterface {
  name = 'IdentityAndAudit1763856000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "gateway"."users" (
      "id" uuid PRIMARY KEY, "team_id" uuid NOT NULL REFERENCES "gateway"."teams"("id") ON DELETE CASCADE,
      "email" varchar(254) NOT NULL, "created_at" timestamptz NOT NULL DEFAULT now(), UNIQUE ("team_id", "email"))`);
    await q.query(`ALTER TABLE "gateway"."api_keys"
      ADD COLUMN "scopes" text[] NOT NULL DEFAULT '{}',
      ADD COLUMN "user_id" uuid REFERENCES "gateway"."users"("id") ON DELETE SET NULL,
      ADD COLUMN "rotated_at" timestamptz,
      ADD COLUMN "replaced_by" uuid`);
    await q.query(`CREATE INDEX "api_keys_team_idx" ON "gateway"."api_keys" ("team_id", "created_at")`);
    await q.query(`CREATE TABLE "gateway"."audit_log" (
      "id" uuid PRIMARY KEY, "occurred_at" timestamptz NOT NULL DEFAULT clock_timestamp(),
      "team_id" uuid, "actor" varchar(64) NOT NULL DEFAULT '', "key_prefix" varchar(16) NOT NULL DEFAULT '',
      "action" varchar(200) NOT NULL, "target" varchar(300) NOT NULL DEFAULT '', "ip" varchar(64) NOT NULL DEFAULT '',
      "result" varchar(64) NOT NULL, "status" integer NOT NULL, "correlation_id" varchar(128) NOT NULL DEFAULT '')`);
    await q.query(`CREATE INDEX "audit_log_team_time_idx" ON "gateway"."audit_log" ("team_id", "occurred_at" DESC, "id" DESC)`);
    await q.query(`CREATE FUNCTION "gateway"."audit_log_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege'; END $$`);
    await q.query(`CREATE TRIGGER "audit_log_no_update_delete" BEFORE UPDATE OR DELETE ON "gateway"."audit_log"
      FOR EACH ROW EXECUTE FUNCTION "gateway"."audit_log_append_only"()`);
    await q.query(`CREATE TRIGGER "audit_log_no_truncate" BEFORE TRUNCATE ON "gateway"."audit_log"
      FOR EACH STATEMENT EXECUTE FUNCTION "gateway"."audit_log_append_only"()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "gateway"."audit_log"`);
    await q.query(`DROP FUNCTION "gateway"."audit_log_append_only"()`);
    await q.query(`DROP INDEX "gateway"."api_keys_team_idx"`);
    await q.query(`ALTER TABLE "gateway"."api_keys" DROP COLUMN "replaced_by", DROP COLUMN "rotated_at", DROP COLUMN "user_id", DROP COLUMN "scopes"`);
    await q.query(`DROP TABLE "gateway"."users"`);
  }
}
