import type { MigrationInterface, QueryRunner } from 'typeorm';

// Business figures per UTC day, team, app and metric, kept from the facts as they are stored
// (and derivable again from analytics.events). app_id and dim are '' when not applicable.
export class DailyAggregates1796342400000 implements MigrationInterface {
  name = 'DailyAggregates1796342400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "analytics"."daily_aggregates" (
      "day" date NOT NULL, "team_id" uuid NOT NULL, "app_id" varchar(36) NOT NULL DEFAULT '',
      "metric" varchar(40) NOT NULL, "dim" varchar(200) NOT NULL DEFAULT '', "value" double precision NOT NULL DEFAULT 0,
      PRIMARY KEY ("day", "team_id", "metric", "app_id", "dim"))`);
    await q.query(`CREATE INDEX "daily_aggregates_team_day" ON "analytics"."daily_aggregates" ("team_id", "day")`);
    // The rebuild reads one day's facts at a time.
    await q.query(`CREATE INDEX IF NOT EXISTS "events_occurred" ON "analytics"."events" ("occurred_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS "analytics"."events_occurred"`);
    await q.query(`DROP TABLE "analytics"."daily_aggregates"`);
  }
}
