import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763769600000 implements MigrationInterface {
  name = 'InitialSchema1763769600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "gateway"."teams" ("id" uuid PRIMARY KEY, "slug" varchar(64) NOT NULL UNIQUE, "created_at" timestamptz NOT NULL DEFAULT now())`,
    );
    await q.query(`CREATE TABLE "gateway"."api_keys" (
      "id" uuid PRIMARY KEY, "team_id" uuid NOT NULL REFERENCES "gateway"."teams"("id") ON DELETE CASCADE,
      "prefix" varchar(16) NOT NULL UNIQUE, "key_hash" varchar(64) NOT NULL, "role" varchar(16) NOT NULL, "name" varchar(100) NOT NULL,
      "expires_at" timestamptz, "revoked_at" timestamptz, "created_at" timestamptz NOT NULL DEFAULT now())`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "gateway"."api_keys"`);
    await q.query(`DROP TABLE "gateway"."teams"`);
  }
}
