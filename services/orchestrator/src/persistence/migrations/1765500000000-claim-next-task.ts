import type { MigrationInterface, QueryRunner } from 'typeorm';

// The task scheduler's claim in one round trip, made once a second by every replica whether work
// waits or not: the lock that serializes claims across replicas, then the claim itself, which
// must count the running tasks a claim committed while this one waited, so it is a statement of
// its own (in a VOLATILE function each statement takes a fresh snapshot). The lock is the
// transaction's: the caller's statement is that transaction. Returns the claimed task, as it is
// after the claim, or no row.
export class ClaimNextTask1765500000000 implements MigrationInterface {
  name = 'ClaimNextTask1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION "orchestrator"."claim_next_task"(p_lock bigint, p_owner varchar, p_lease_ms integer, p_max_running integer)
      RETURNS SETOF "orchestrator"."tasks"
      LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(p_lock);
        RETURN QUERY
          WITH live AS (SELECT project_id, count(*)::int AS n FROM "orchestrator"."tasks" WHERE status = 'running' AND lease_until >= now() GROUP BY project_id),
          claimed AS (
            UPDATE "orchestrator"."tasks" t SET status = 'running', lease_owner = p_owner, lease_until = now() + (p_lease_ms * interval '1 millisecond'),
              attempts = t.attempts + 1, started_at = COALESCE(t.started_at, now()), updated_at = now()
             WHERE t.id = (
               SELECT c.id FROM "orchestrator"."tasks" c JOIN "orchestrator"."projects" p ON p.id = c.project_id LEFT JOIN live l ON l.project_id = c.project_id
                WHERE (c.status = 'queued' OR (c.status = 'running' AND (c.lease_until IS NULL OR c.lease_until < now())))
                  AND (c.not_before IS NULL OR c.not_before <= now())
                  AND COALESCE(l.n, 0) < p.concurrency AND (SELECT COALESCE(sum(n), 0) FROM live) < p_max_running
                ORDER BY c.priority DESC, c.created_at ASC, c.id ASC LIMIT 1 FOR UPDATE OF c SKIP LOCKED)
             RETURNING t.*)
          SELECT * FROM claimed;
      END
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION "orchestrator"."claim_next_task"(bigint, varchar, integer, integer)`);
  }
}
