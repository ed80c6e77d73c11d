import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SecurityBaseline1796457600000 implements MigrationInterface {
  name = 'SecurityBaseline1796457600000';

  async up(q: QueryRunner): Promise<void> {
    // One row: the security settings an operator accepted; the audit reports drift from it.
    await q.query(`CREATE TABLE "backup"."security_baseline" (
      "id" smallint PRIMARY KEY DEFAULT 1 CHECK ("id" = 1), "settings" jsonb NOT NULL, "accepted_at" timestamptz NOT NULL DEFAULT now())`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "backup"."security_baseline"`);
  }
}
