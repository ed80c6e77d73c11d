import type { MigrationInterface, QueryRunner } from 'typeorm';

// Per-app iteration limit, run cancel, run leases (one replica works a run at a time),
// token/cost accounting, the status each run event was published with (for SSE replay),
// and the run a chat message belongs to.
export class RunControl1763856000000 implements MigrationInterface {
  name = 'RunControl1763856000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "orchestrator"."apps" ADD COLUMN "max_iterations" int NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE "orchestrator"."runs"
      ADD COLUMN "cancel_requested_at" timestamptz, ADD COLUMN "cancel_reason" text,
      ADD COLUMN "lease_owner" varchar(64), ADD COLUMN "lease_until" timestamptz,
      ADD COLUMN "input_tokens" bigint NOT NULL DEFAULT 0, ADD COLUMN "output_tokens" bigint NOT NULL DEFAULT 0,
      ADD COLUMN "cost_usd" numeric(14,6) NOT NULL DEFAULT 0`);
    await q.query(`CREATE INDEX "runs_team_created" ON "orchestrator"."runs" ("team_id", "created_at", "id")`);
    await q.query(`ALTER TABLE "orchestrator"."run_steps" ADD COLUMN "status" varchar(20) NOT NULL DEFAULT 'running'`);
    await q.query(`UPDATE "orchestrator"."run_steps" SET "status" = substr("kind", 5) WHERE "kind" IN ('run_completed', 'run_failed', 'run_cancelled')`);
    await q.query(`ALTER TABLE "orchestrator"."messages" ADD COLUMN "run_id" uuid`);
    await q.query(`UPDATE "orchestrator"."messages" m SET "run_id" = r."id" FROM "orchestrator"."runs" r WHERE r."message_id" = m."id"`);
    await q.query(`CREATE INDEX "messages_app_created_id" ON "orchestrator"."messages" ("app_id", "created_at", "id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "orchestrator"."messages_app_created_id"`);
    await q.query(`ALTER TABLE "orchestrator"."messages" DROP COLUMN "run_id"`);
    await q.query(`ALTER TABLE "orchestrator"."run_steps" DROP COLUMN "status"`);
    await q.query(`DROP INDEX "orchestrator"."runs_team_created"`);
    await q.query(`ALTER TABLE "orchestrator"."runs" DROP COLUMN "cancel_requested_at", DROP COLUMN "cancel_reason", DROP COLUMN "lease_owner",
      DROP COLUMN "lease_until", DROP COLUMN "input_tokens", DROP COLUMN "output_tokens", DROP COLUMN "cost_usd"`);
    await q.query(`ALTER TABLE "orchestrator"."apps" DROP COLUMN "max_iterations"`);
  }
}
