import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ClaimRunStart1765300000000 } from './1765300000000-claim-run-start';

// A run's claim reads in time bounded by what is live or asked for, not by the history of its
// team and app.
// - The team's spend on a UTC day: team_daily_spend keeps the cost of every run of the day that
//   is not running (a ledger, kept by a trigger on runs in the transaction that changes a run's
//   status), and team_spend_on adds the live cost of the team's running runs of that day. In any
//   snapshot a run is either running or in the ledger, so the sum is exact. A deleted run's cost
//   stays in the ledger: deleting an app does not give its spend back. Eight rows per team and
//   day, chosen by the run's id, so the runs of one team finishing at once do not queue on one
//   row's lock. A run's team and creation time never change.
// - The app's runs a claim waits for, through an index of the app's queued and running runs.
// - The conversation before the run's message, from the message's place in the app's keyset
//   index (messages_app_created_id) backwards, as many as asked for.
export class BoundedClaimReads1765400000000 implements MigrationInterface {
  name = 'BoundedClaimReads1765400000000';

  async up(q: QueryRunner): Promise<void> {
    // No run changes while the ledger is filled and its trigger created.
    await q.query(`LOCK TABLE "orchestrator"."runs" IN SHARE ROW EXCLUSIVE MODE`);
    await q.query(`CREATE TABLE "orchestrator"."team_daily_spend" (
      "team_id" uuid NOT NULL, "day" date NOT NULL, "shard" smallint NOT NULL, "usd" numeric(18,6) NOT NULL,
      PRIMARY KEY ("team_id", "day", "shard"))`);
    // The team's running runs, and the app's runs a claim waits for (queued or running), over
    // those alone: not over every run the team or app ever had. Keyed on status alone, so a
    // checkpoint's update (cost, lease) can stay a heap-only one.
    await q.query(`CREATE INDEX "runs_team_running" ON "orchestrator"."runs" ("team_id") WHERE status = 'running'`);
    await q.query(`CREATE INDEX "runs_app_open" ON "orchestrator"."runs" ("app_id") WHERE status IN ('queued', 'running')`);
    // A prefix of messages_app_created_id: every message paid for it, no read needs it.
    await q.query(`DROP INDEX "orchestrator"."messages_app_created"`);
    await q.query(`
      CREATE FUNCTION "orchestrator"."runs_count_spend"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        r record;
        delta numeric;
      BEGIN
        IF TG_OP = 'DELETE' THEN
          -- A run that is not running is in the ledger already; a running one goes in as it goes.
          r := OLD;
          delta := CASE WHEN OLD.status = 'running' THEN OLD.cost_usd ELSE 0 END;
        ELSE
          r := NEW;
          delta := CASE WHEN NEW.status <> 'running' THEN NEW.cost_usd ELSE 0 END
                 - CASE WHEN TG_OP = 'UPDATE' AND OLD.status <> 'running' THEN OLD.cost_usd ELSE 0 END;
        END IF;
        IF delta <> 0 THEN
          INSERT INTO "orchestrator"."team_daily_spend" AS t (team_id, day, shard, usd)
          VALUES (r.team_id, (r.created_at AT TIME ZONE 'UTC')::date, get_byte(uuid_send(r.id), 15) % 8, delta)
          ON CONFLICT (team_id, day, shard) DO UPDATE SET usd = t.usd + EXCLUDED.usd;
        END IF;
        RETURN NULL;
      END
      $$`);
    // A run's cost changes only while it runs (the checkpoints are fenced on it), so the ledger
    // follows status changes alone: a trigger on the cost too would run on every checkpoint.
    await q.query(`CREATE TRIGGER "runs_spend_insert" AFTER INSERT ON "orchestrator"."runs" FOR EACH ROW
      WHEN (NEW.status <> 'running' AND NEW.cost_usd <> 0) EXECUTE FUNCTION "orchestrator"."runs_count_spend"()`);
    await q.query(`CREATE TRIGGER "runs_spend_update" AFTER UPDATE OF status ON "orchestrator"."runs" FOR EACH ROW
      WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION "orchestrator"."runs_count_spend"()`);
    await q.query(`CREATE TRIGGER "runs_spend_delete" AFTER DELETE ON "orchestrator"."runs" FOR EACH ROW
      WHEN (OLD.status = 'running' AND OLD.cost_usd <> 0) EXECUTE FUNCTION "orchestrator"."runs_count_spend"()`);
    await q.query(`
      INSERT INTO "orchestrator"."team_daily_spend" (team_id, day, shard, usd)
      SELECT team_id, (created_at AT TIME ZONE 'UTC')::date, get_byte(uuid_send(id), 15) % 8, SUM(cost_usd)
        FROM "orchestrator"."runs" WHERE status <> 'running'
       GROUP BY 1, 2, 3 HAVING SUM(cost_usd) <> 0`);
    // plpgsql, so its plan is kept per connection (a SQL function with sub-selects is neither
    // inlined nor kept: planned on every call). STABLE: it reads its caller's snapshot, both sums
    // the same one.
    await q.query(`
      CREATE FUNCTION "orchestrator"."team_spend_on"(p_team uuid, p_day date) RETURNS numeric LANGUAGE plpgsql STABLE AS $$
      BEGIN
        RETURN COALESCE((SELECT SUM(usd) FROM "orchestrator"."team_daily_spend" WHERE team_id = p_team AND day = p_day), 0)
             + COALESCE((SELECT SUM(cost_usd) FROM "orchestrator"."runs"
                          WHERE team_id = p_team AND status = 'running'
                            AND created_at >= p_day::timestamp AT TIME ZONE 'UTC' AND created_at < (p_day + 1)::timestamp AT TIME ZONE 'UTC'), 0);
      END
      $$`);
    // The claim's start reads, the team's spend on a day instead of since a moment.
    await q.query(`DROP FUNCTION "orchestrator"."claim_run_start"(uuid, varchar, integer, integer, timestamptz)`);
    await q.query(`
      CREATE FUNCTION "orchestrator"."claim_run_start"(p_id uuid, p_owner varchar, p_lease_ms integer, p_history integer, p_spend_day date)
      RETURNS TABLE (claimed boolean, run "orchestrator"."runs", message jsonb, app jsonb, steps jsonb, history jsonb, team_spend numeric)
      LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        c record;
        m "orchestrator"."messages";
      BEGIN
        SELECT * INTO c FROM "orchestrator"."claim_run"(p_id, p_owner, p_lease_ms);
        IF NOT FOUND THEN
          RETURN;
        END IF;
        IF NOT c.claimed THEN
          RETURN QUERY SELECT false, c.run, NULL::jsonb, NULL::jsonb, NULL::jsonb, NULL::jsonb, NULL::numeric;
          RETURN;
        END IF;
        -- The message first: its place bounds the conversation's index scan to the history asked for.
        SELECT * INTO m FROM "orchestrator"."messages" WHERE id = (c.run).message_id;
        RETURN QUERY SELECT true, c.run,
          CASE WHEN m.id IS NOT NULL THEN to_jsonb(m) END,
          (SELECT to_jsonb(a) FROM "orchestrator"."apps" a WHERE a.id = (c.run).app_id),
          (SELECT COALESCE(jsonb_agg(to_jsonb(s) ORDER BY s.seq), '[]'::jsonb) FROM "orchestrator"."run_steps" s WHERE s.run_id = p_id),
          (SELECT COALESCE(jsonb_agg(to_jsonb(h) ORDER BY h.created_at, h.id), '[]'::jsonb)
             FROM (SELECT p.* FROM "orchestrator"."messages" p
                    WHERE p.app_id = m.app_id AND (p.created_at, p.id) < (m.created_at, m.id)
                    ORDER BY p.created_at DESC, p.id DESC LIMIT GREATEST(p_history, 0)) h),
          CASE WHEN p_spend_day IS NOT NULL THEN "orchestrator"."team_spend_on"((c.run).team_id, p_spend_day) END;
      END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION "orchestrator"."claim_run_start"(uuid, varchar, integer, integer, date)`);
    await new ClaimRunStart1765300000000().up(q);
    await q.query(`DROP FUNCTION "orchestrator"."team_spend_on"(uuid, date)`);
    await q.query(`DROP TRIGGER "runs_spend_delete" ON "orchestrator"."runs"`);
    await q.query(`DROP TRIGGER "runs_spend_update" ON "orchestrator"."runs"`);
    await q.query(`DROP TRIGGER "runs_spend_insert" ON "orchestrator"."runs"`);
    await q.query(`DROP FUNCTION "orchestrator"."runs_count_spend"()`);
    await q.query(`CREATE INDEX "messages_app_created" ON "orchestrator"."messages" ("app_id", "created_at")`);
    await q.query(`DROP INDEX "orchestrator"."runs_app_open"`);
    await q.query(`DROP INDEX "orchestrator"."runs_team_running"`);
    await q.query(`DROP TABLE "orchestrator"."team_daily_spend"`);
  }
}
