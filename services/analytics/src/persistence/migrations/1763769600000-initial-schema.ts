import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763769600000 implements MigrationInterface {
  name = 'InitialSchema1763769600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "analytics"."events" (
      "event_id" uuid PRIMARY KEY, "type" varchar(100) NOT NULL, "occurred_at" timestamptz NOT NULL,
      "team_id" uuid, "app_id" uuid, "run_id" uuid, "attributes" jsonb NOT NULL DEFAULT '{}')`);
    await q.query(`CREATE INDEX "events_type_occurred" ON "analytics"."events" ("type", "occurred_at")`);
    await q.query(`CREATE INDEX "events_team_occurred" ON "analytics"."events" ("team_id", "occurred_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "analytics"."events"`);
  }
}
