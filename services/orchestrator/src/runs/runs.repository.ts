import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { MessageEntity, RunEntity, RunStepEntity, type RunStatusName } from '../persistence/entities';

export interface Cursor {
  createdAt: Date;
  id: string;
}

@Injectable()
export class RunsRepository {
  constructor(private readonly dataSource: DataSource) {}

  // The message and its run are one transaction: never a run without its request.
  async insertMessageWithRun(input: { appId: string; teamId: string; content: string; authorId: string }): Promise<{ messageId: string; runId: string }> {
    const messageId = randomUUID();
    const runId = randomUUID();
    await this.dataSource.transaction(async (tx) => {
      await tx.insert(MessageEntity, { id: messageId, appId: input.appId, teamId: input.teamId, role: 'user', content: input.content, authorId: input.authorId, runId });
      await tx.insert(RunEntity, { id: runId, appId: input.appId, teamId: input.teamId, messageId, status: 'queued', iterations: 0 });
    });
    return { messageId, runId };
  }

  async insertAssistantMessage(input: { appId: string; teamId: string; runId: string; content: string }): Promise<void> {
    await this.dataSource.getRepository(MessageEntity).insert({ id: randomUUID(), appId: input.appId, teamId: input.teamId, role: 'assistant', content: input.content, authorId: 'agent', runId: input.runId });
  }

  findRun(id: string): Promise<RunEntity | null> {
    return this.dataSource.getRepository(RunEntity).findOneBy({ id });
  }

  findRunForTeam(teamId: string, id: string): Promise<RunEntity | null> {
    return this.dataSource.getRepository(RunEntity).findOneBy({ id, teamId });
  }

  findMessage(id: string): Promise<MessageEntity | null> {
    return this.dataSource.getRepository(MessageEntity).findOneBy({ id });
  }

  listSteps(runId: string): Promise<RunStepEntity[]> {
    return this.dataSource.getRepository(RunStepEntity).find({ where: { runId }, order: { seq: 'ASC' } });
  }

  listStepsAfter(runId: string, afterSeq: number, limit: number): Promise<RunStepEntity[]> {
    return this.dataSource
      .getRepository(RunStepEntity)
      .createQueryBuilder('s')
      .where('s.run_id = :runId AND s.seq > :afterSeq', { runId, afterSeq })
      .orderBy('s.seq', 'ASC')
      .limit(limit)
      .getMany();
  }

  // Keyset pagination on (created_at, id), newest first.
  listMessages(appId: string, limit: number, after?: Cursor): Promise<MessageEntity[]> {
    const qb = this.dataSource.getRepository(MessageEntity).createQueryBuilder('m').where('m.app_id = :appId', { appId });
    if (after) qb.andWhere('(m.created_at, m.id) < (:createdAt, :id)', after);
    return qb.orderBy('m.created_at', 'DESC').addOrderBy('m.id', 'DESC').limit(limit).getMany();
  }

  listRuns(teamId: string, appId: string | undefined, limit: number, after?: Cursor): Promise<RunEntity[]> {
    const qb = this.dataSource.getRepository(RunEntity).createQueryBuilder('r').where('r.team_id = :teamId', { teamId });
    if (appId) qb.andWhere('r.app_id = :appId', { appId });
    if (after) qb.andWhere('(r.created_at, r.id) < (:createdAt, :id)', after);
    return qb.orderBy('r.created_at', 'DESC').addOrderBy('r.id', 'DESC').limit(limit).getMany();
  }

  // A queued run nobody has taken yet ends at once; false = it already started (or ended).
  async cancelQueued(id: string, reason: string): Promise<boolean> {
    const result = await this.dataSource.query(
      `UPDATE "orchestrator"."runs" SET status = 'cancelled', error_code = 'RUN_CANCELLED', error_message = $2, cancel_requested_at = now(), cancel_reason = $3, finished_at = now()
        WHERE id = $1 AND status = 'queued'`,
      [id, cancelMessage(reason), reason],
    );
    return rowCount(result) > 0;
  }

  // A running run stops at its next step boundary; the first request's reason is kept.
  async requestCancel(id: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE "orchestrator"."runs" SET cancel_requested_at = COALESCE(cancel_requested_at, now()), cancel_reason = COALESCE(cancel_reason, $2)
        WHERE id = $1 AND status = 'running'`,
      [id, reason],
    );
  }

  async markRunning(id: string): Promise<void> {
    await this.dataSource.getRepository(RunEntity).update({ id }, { status: 'running', startedAt: new Date() });
  }

  async finish(id: string, status: RunStatusName, fields: { commitSha?: string; errorCode?: string; errorMessage?: string; iterations: number }): Promise<void> {
    await this.dataSource.getRepository(RunEntity).update(
      { id },
      { status, commitSha: fields.commitSha ?? null, errorCode: fields.errorCode ?? null, errorMessage: fields.errorMessage ?? null, iterations: fields.iterations, finishedAt: new Date() },
    );
  }

  // Checkpoint: the step is durable before the run acts on its result.
  async appendStep(runId: string, kind: string, summary: string, data: Record<string, unknown>, status: RunStatusName = 'running'): Promise<RunStepEntity> {
    const repo = this.dataSource.getRepository(RunStepEntity);
    const rows: Array<{ next: number }> = await this.dataSource.query(`SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM "orchestrator"."run_steps" WHERE run_id = $1`, [runId]);
    const step = repo.create({ id: randomUUID(), runId, seq: Number(rows[0]?.next ?? 1), kind, summary, data, status });
    return repo.save(step);
  }
}

export function cancelMessage(reason: string): string {
  return reason ? `Cancelled: ${reason}` : 'Cancelled on request';
}

// TypeORM's raw query result for UPDATE on Postgres is [rows, affectedCount].
function rowCount(result: unknown): number {
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}
