import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763769600000 implements MigrationInterface {
  name = 'InitialSchema1763769600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "backup"."backups" (
      "id" uuid PRIMARY KEY, "kind" varchar(20) NOT NULL, "status" varchar(20) NOT NULL, "path" text NOT NULL DEFAULT '',
      "size_bytes" bigint NOT NULL DEFAULT 0, "sha256" varchar(64) NOT NULL DEFAULT '', "encrypted" boolean NOT NULL DEFAULT false,
      "created_at" timestamptz NOT NULL DEFAULT now(), "finished_at" timestamptz)`);
    await q.query(`CREATE INDEX "backups_created" ON "backup"."backups" ("created_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "backup"."backups"`);
  }
}
