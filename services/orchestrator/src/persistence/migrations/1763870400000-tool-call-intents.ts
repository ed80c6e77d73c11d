import type { MigrationInterface, QueryRunner } from 'typeorm';

// A tool call's intent is recorded before it executes, so a run resumed after a crash never
// executes a call twice; the app's first commit, to list its files for the model's context.
export class ToolCallIntents1763870400000 implements MigrationInterface {
  name = 'ToolCallIntents1763870400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "orchestrator"."tool_calls" (
      "run_id" uuid NOT NULL REFERENCES "orchestrator"."runs"("id") ON DELETE CASCADE, "tool_use_id" varchar(200) NOT NULL,
      "name" varchar(100) NOT NULL, "input_json" text NOT NULL, "lease_owner" varchar(64) NOT NULL, "created_at" timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY ("run_id", "tool_use_id"))`);
    await q.query(`ALTER TABLE "orchestrator"."apps" ADD COLUMN "init_sha" varchar(64)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "orchestrator"."apps" DROP COLUMN "init_sha"`);
    await q.query(`DROP TABLE "orchestrator"."tool_calls"`);
  }
}
