import type { MigrationInterface, QueryRunner } from 'typeorm';

// The preview reads (analytics.{console,network,report}.read.v1) filter one app's facts of one
// type over a time range, newest first.
export class PreviewIndexes1763856000000 implements MigrationInterface {
  name = 'PreviewIndexes1763856000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS "events_app_type_occurred" ON "analytics"."events" ("app_id", "type", "occurred_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS "analytics"."events_app_type_occurred"`);
  }
}
