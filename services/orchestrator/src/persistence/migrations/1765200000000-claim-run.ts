import type { MigrationInterface, QueryRunner } from 'typeorm';

// A run's claim in one round trip. The app row's lock serializes concurrent claims of one app's
// runs; the UPDATE after it must see a claim another transaction committed while this one waited,
// so it is a statement of its own: in a VOLATILE function each statement takes a fresh snapshot.
// Returns the run as it is after the claim (no row: it is gone), and whether this owner took it.
export class ClaimRun1765200000000 implements MigrationInterface {
  name = 'ClaimRun1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION "orchestrator"."claim_run"(p_id uuid, p_owner varchar, p_lease_ms integer)
      RETURNS TABLE (claimed boolean, run "orchestrator"."runs")
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        took boolean;
      BEGIN
        PERFORM 1 FROM "orchestrator"."apps" a JOIN "orchestrator"."runs" r ON r.app_id = a.id WHERE r.id = p_id FOR UPDATE OF a;
        UPDATE "orchestrator"."runs" r
           SET status = 'running', started_at = COALESCE(r.started_at, now()), lease_owner = p_owner, lease_until = now() + (p_lease_ms * interval '1 millisecond')
         WHERE r.id = p_id AND r.status IN ('queued', 'running') AND (r.lease_owner IS NULL OR r.lease_owner = p_owner OR r.lease_until < now())
           AND NOT EXISTS (SELECT 1 FROM "orchestrator"."runs" o WHERE o.app_id = r.app_id AND o.id <> r.id
             AND ((o.status = 'running' AND o.lease_until >= now()) OR (o.status = 'queued' AND o.created_at < r.created_at)));
        took := FOUND;
        RETURN QUERY SELECT took, r FROM "orchestrator"."runs" r WHERE r.id = p_id;
      END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION "orchestrator"."claim_run"(uuid, varchar, integer)`);
  }
}
