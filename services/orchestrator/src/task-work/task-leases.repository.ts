import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { MessageEntity, RunEntity, TaskEntity, type TaskStatusName } from '../persistence/entities';

// Every claim takes this transaction-scoped lock first, so concurrent claims (any replica) are
// serialized and each one counts the running tasks the previous one committed.
const CLAIM_LOCK = 7_264_012;

export type TaskFields = Partial<
  Pick<TaskEntity, 'appId' | 'baseSha' | 'statusCommentId' | 'answerCommentId' | 'pullNumber' | 'answerUrl' | 'errorCode' | 'errorMessage'>
>;

const COLUMNS: Record<keyof TaskFields, string> = {
  appId: 'app_id',
  baseSha: 'base_sha',
  statusCommentId: 'status_comment_id',
  answerCommentId: 'answer_comment_id',
  pullNumber: 'pull_number',
  answerUrl: 'answer_url',
  errorCode: 'error_code',
  errorMessage: 'error_message',
};

// Leases of tasks, as runs have them: a task is worked by the replica whose lease is live, every
// write is fenced by it, and a lapsed lease lets another replica take the task over.
@Injectable()
export class TaskLeasesRepository {
  constructor(private readonly dataSource: DataSource) {}

  // The next task to work, in priority order across projects (oldest first within a priority):
  // queued, or running under a lapsed lease (its replica died). Never past the project's
  // concurrency or the global cap, counting the tasks whose lease is live.
  async claimNext(owner: string, leaseMs: number, maxRunning: number): Promise<TaskEntity | undefined> {
    const rows = await this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK]);
      return updatedRows<{ id: string }>(
        await m.query(
          `WITH live AS (SELECT project_id, count(*)::int AS n FROM "orchestrator"."tasks" WHERE status = 'running' AND lease_until >= now() GROUP BY project_id)
           UPDATE "orchestrator"."tasks" t SET status = 'running', lease_owner = $1, lease_until = now() + ($2 * interval '1 millisecond'),
             attempts = t.attempts + 1, started_at = COALESCE(t.started_at, now()), updated_at = now()
            WHERE t.id = (
              SELECT c.id FROM "orchestrator"."tasks" c JOIN "orchestrator"."projects" p ON p.id = c.project_id LEFT JOIN live l ON l.project_id = c.project_id
               WHERE (c.status = 'queued' OR (c.status = 'running' AND (c.lease_until IS NULL OR c.lease_until < now())))
                 AND COALESCE(l.n, 0) < p.concurrency AND (SELECT COALESCE(sum(n), 0) FROM live) < $3
               ORDER BY c.priority DESC, c.created_at ASC, c.id ASC LIMIT 1 FOR UPDATE OF c SKIP LOCKED)
            RETURNING t.id`,
          [owner, leaseMs, maxRunning],
        ),
      );
    });
    const id = rows[0]?.id;
    return id ? ((await this.find(id)) ?? undefined) : undefined;
  }

  find(id: string): Promise<TaskEntity | null> {
    return this.dataSource.getRepository(TaskEntity).findOneBy({ id });
  }

  async renew(id: string, owner: string, leaseMs: number): Promise<{ held: boolean; cancelRequested: boolean }> {
    const rows = updatedRows<{ cancel_requested_at: Date | null }>(
      await this.dataSource.query(
        `UPDATE "orchestrator"."tasks" SET lease_until = now() + ($3 * interval '1 millisecond') WHERE id = $1 AND lease_owner = $2 AND status = 'running'
          RETURNING cancel_requested_at`,
        [id, owner, leaseMs],
      ),
    );
    return { held: rows.length > 0, cancelRequested: !!rows[0]?.cancel_requested_at };
  }

  // Fenced: false = this replica no longer holds the task.
  async record(id: string, owner: string, fields: TaskFields): Promise<boolean> {
    const entries = Object.entries(fields) as Array<[keyof TaskFields, unknown]>;
    const sets = entries.map(([k], i) => `"${COLUMNS[k]}" = $${i + 3}`).join(', ');
    const result = await this.dataSource.query(
      `UPDATE "orchestrator"."tasks" SET ${sets}, updated_at = now() WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
      [id, owner, ...entries.map(([, v]) => v)],
    );
    return rowCount(result) > 0;
  }

  // The task's next run and its request, in one transaction with the task row (fenced), so a
  // crash never leaves a run the task does not know about.
  async attachRun(task: TaskEntity, owner: string, appId: string, content: string): Promise<string | undefined> {
    const messageId = randomUUID();
    const runId = randomUUID();
    return this.dataSource.transaction(async (tx) => {
      const held = await tx.query(`SELECT id FROM "orchestrator"."tasks" WHERE id = $1 AND lease_owner = $2 AND status = 'running' AND run_id IS NULL FOR UPDATE`, [task.id, owner]);
      if ((held as unknown[]).length === 0) return undefined;
      await tx.insert(MessageEntity, { id: messageId, appId, teamId: task.teamId, role: 'user', content, authorId: `github-issue:${task.issueNumber}`, runId });
      await tx.insert(RunEntity, { id: runId, appId, teamId: task.teamId, messageId, status: 'queued', iterations: 0 });
      await tx.query(`UPDATE "orchestrator"."tasks" SET run_id = $2, updated_at = now() WHERE id = $1`, [task.id, runId]);
      return runId;
    });
  }

  // The final state, only by the replica holding the task.
  async finish(id: string, owner: string, status: TaskStatusName, fields: TaskFields = {}): Promise<boolean> {
    const entries = Object.entries(fields) as Array<[keyof TaskFields, unknown]>;
    const sets = entries.map(([k], i) => `, "${COLUMNS[k]}" = $${i + 4}`).join('');
    const result = await this.dataSource.query(
      `UPDATE "orchestrator"."tasks" SET status = $3, lease_owner = NULL, lease_until = NULL, finished_at = now(), updated_at = now()${sets}
        WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
      [id, owner, status, ...entries.map(([, v]) => v)],
    );
    return rowCount(result) > 0;
  }

  // Given back without an end (this replica stops, or hit trouble of its own): claimable again at once.
  async release(id: string, owner: string): Promise<void> {
    await this.dataSource.query(`UPDATE "orchestrator"."tasks" SET lease_until = now() - interval '1 second' WHERE id = $1 AND lease_owner = $2 AND status = 'running'`, [id, owner]);
  }
}

// TypeORM answers UPDATE ... RETURNING with [rows, affectedCount].
function updatedRows<T>(result: unknown): T[] {
  return Array.isArray(result) && Array.isArray(result[0]) ? (result[0] as T[]) : [];
}

function rowCount(result: unknown): number {
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}
