import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { MessageEntity, RunEntity, RunStepEntity, type RunStatusName } from '../persistence/entities';

@Injectable()
export class RunsRepository {
  constructor(private readonly dataSource: DataSource) {}

  // The message and its run are one transaction: never a run without its request.
  async insertMessageWithRun(input: { appId: string; teamId: string; content: string; authorId: string }): Promise<{ messageId: string; runId: string }> {
    const messageId = randomUUID();
    const runId = randomUUID();
    await this.dataSource.transaction(async (tx) => {
      await tx.insert(MessageEntity, { id: messageId, appId: input.appId, teamId: input.teamId, role: 'user', content: input.content, authorId: input.authorId });
      await tx.insert(RunEntity, { id: runId, appId: input.appId, teamId: input.teamId, messageId, status: 'queued', iterations: 0 });
    });
    return { messageId, runId };
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
  async appendStep(runId: string, kind: string, summary: string, data: Record<string, unknown>): Promise<RunStepEntity> {
    const repo = this.dataSource.getRepository(RunStepEntity);
    const rows: Array<{ next: number }> = await this.dataSource.query(`SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM "orchestrator"."run_steps" WHERE run_id = $1`, [runId]);
    const step = repo.create({ id: randomUUID(), runId, seq: Number(rows[0]?.next ?? 1), kind, summary, data });
    return repo.save(step);
  }
}
