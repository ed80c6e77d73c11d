import type { MigrationInterface, QueryRunner } from 'typeorm';

// A run's claim and everything its start reads, in one round trip: the claim (claim_run), then,
// only when this owner took the run, its message, its app, its checkpoints, the conversation
// before its message (the newest p_history, as JSON rows under their column names) and, when
// p_spend_since is given, its team's spend since then. Each statement of a VOLATILE function
// takes a fresh snapshot, so the reads see whatever was committed before the claim, the
// checkpoints of a replica whose lease lapsed included.
export class ClaimRunStart1765300000000 implements MigrationInterface {
  name = 'ClaimRunStart1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION "orchestrator"."claim_run_start"(p_id uuid, p_owner varchar, p_lease_ms integer, p_history integer, p_spend_since timestamptz)
      RETURNS TABLE (claimed boolean, run "orchestrator"."runs", message jsonb, app jsonb, steps jsonb, history jsonb, team_spend numeric)
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        c record;
      BEGIN
        SELECT * INTO c FROM "orchestrator"."claim_run"(p_id, p_owner, p_lease_ms);
        IF NOT FOUND THEN
          RETURN;
        END IF;
        IF NOT c.claimed THEN
          RETURN QUERY SELECT false, c.run, NULL::jsonb, NULL::jsonb, NULL::jsonb, NULL::jsonb, NULL::numeric;
          RETURN;
        END IF;
        RETURN QUERY SELECT true, c.run,
          (SELECT to_jsonb(m) FROM "orchestrator"."messages" m WHERE m.id = (c.run).message_id),
          (SELECT to_jsonb(a) FROM "orchestrator"."apps" a WHERE a.id = (c.run).app_id),
          (SELECT COALESCE(jsonb_agg(to_jsonb(s) ORDER BY s.seq), '[]'::jsonb) FROM "orchestrator"."run_steps" s WHERE s.run_id = p_id),
          (SELECT COALESCE(jsonb_agg(to_jsonb(h) ORDER BY h.created_at, h.id), '[]'::jsonb)
             FROM (SELECT p.* FROM "orchestrator"."messages" p JOIN "orchestrator"."messages" m ON m.id = (c.run).message_id
                    WHERE p.app_id = m.app_id AND (p.created_at, p.id) < (m.created_at, m.id)
                    ORDER BY p.created_at DESC, p.id DESC LIMIT GREATEST(p_history, 0)) h),
          CASE WHEN p_spend_since IS NOT NULL THEN
            (SELECT COALESCE(SUM(r.cost_usd), 0) FROM "orchestrator"."runs" r WHERE r.team_id = (c.run).team_id AND r.created_at >= p_spend_since)
          END;
      END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION "orchestrator"."claim_run_start"(uuid, varchar, integer, integer, timestamptz)`);
  }
}
