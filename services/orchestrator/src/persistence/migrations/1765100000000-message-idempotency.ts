import type { MigrationInterface, QueryRunner } from 'typeorm';

// A client's Idempotency-Key on the message it posted: one message (and run) per key, app and
// team, enforced by the index whatever replica took the post. A run's enqueue token names the
// latest attempt to queue it: only that attempt may mark the run refused when its publish fails.
export class MessageIdempotency1765100000000 implements MigrationInterface {
  name = 'MessageIdempotency1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "orchestrator"."messages" ADD COLUMN "idempotency_key" varchar(128)`);
    await q.query(
      `CREATE UNIQUE INDEX "messages_idempotency_key" ON "orchestrator"."messages" ("team_id", "app_id", "idempotency_key") WHERE "idempotency_key" IS NOT NULL`,
    );
    await q.query(`ALTER TABLE "orchestrator"."runs" ADD COLUMN "enqueue_token" uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "orchestrator"."runs" DROP COLUMN "enqueue_token"`);
    await q.query(`DROP INDEX "orchestrator"."messages_idempotency_key"`);
    await q.query(`ALTER TABLE "orchestrator"."messages" DROP COLUMN "idempotency_key"`);
  }
}
