import { Injectable } from '@nestjs/common';
import { DataSource, In, type Repository } from 'typeorm';
import { AppEntity, type RunStatusName } from '../persistence/entities';

export interface DeletedRun {
  id: string;
  status: RunStatusName;
  lastSeq: number;
}

@Injectable()
export class AppsRepository {
  private readonly apps: Repository<AppEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.apps = dataSource.getRepository(AppEntity);
  }

  insert(app: Pick<AppEntity, 'id' | 'teamId' | 'name' | 'description' | 'template'>): Promise<AppEntity> {
    return this.apps.save(this.apps.create(app));
  }

  async setInitSha(id: string, sha: string): Promise<void> {
    await this.apps.update({ id }, { initSha: sha });
  }

  async delete(id: string): Promise<void> {
    await this.apps.delete({ id });
  }

  // A task's workspace: worked by the agent loop like an app, never listed or changed as one.
  async insertTaskWorkspace(app: Pick<AppEntity, 'id' | 'teamId' | 'name' | 'description'>): Promise<void> {
    await this.apps.createQueryBuilder().insert().values({ ...app, template: 'github', kind: 'task' }).orIgnore().execute();
  }

  // Tenant-scoped: another team's app is indistinguishable from a missing one.
  findForTeam(teamId: string, id: string): Promise<AppEntity | null> {
    return this.apps.findOneBy({ id, teamId, kind: 'app' });
  }

  findById(id: string): Promise<AppEntity | null> {
    return this.apps.findOneBy({ id });
  }

  async existingIds(ids: string[]): Promise<string[]> {
    const rows = await this.apps.find({ select: { id: true }, where: { id: In(ids) } });
    return rows.map((row) => row.id);
  }

  // Keyset pagination on (created_at, id), newest first.
  listForTeam(teamId: string, limit: number, after?: { createdAt: Date; id: string }): Promise<AppEntity[]> {
    const qb = this.apps.createQueryBuilder('a').where("a.team_id = :teamId AND a.kind = 'app'", { teamId });
    if (after) qb.andWhere('(a.created_at, a.id) < (:createdAt, :id)', after);
    return qb.orderBy('a.created_at', 'DESC').addOrderBy('a.id', 'DESC').limit(limit).getMany();
  }

  async update(teamId: string, id: string, fields: Partial<Pick<AppEntity, 'name' | 'description' | 'maxIterations'>>): Promise<AppEntity | null> {
    if (Object.keys(fields).length > 0) await this.apps.update({ id, teamId, kind: 'app' }, fields);
    return this.findForTeam(teamId, id);
  }

  // One transaction: the app row goes, and with it (ON DELETE CASCADE) its messages, runs and
  // steps. Returns the runs that had not finished, with their last event seq, so their
  // listeners can be told. null = no such app for this team.
  async deleteWithHistory(teamId: string, id: string): Promise<DeletedRun[] | null> {
    return this.dataSource.transaction(async (tx) => {
      const locked: unknown[] = await tx.query(`SELECT id FROM "orchestrator"."apps" WHERE id = $1 AND team_id = $2 AND kind = 'app' FOR UPDATE`, [id, teamId]);
      if (locked.length === 0) return null;
      const open: Array<{ id: string; status: RunStatusName; last_seq: number | null }> = await tx.query(
        `SELECT r.id, r.status, (SELECT MAX(s.seq) FROM "orchestrator"."run_steps" s WHERE s.run_id = r.id) AS last_seq
           FROM "orchestrator"."runs" r WHERE r.app_id = $1 AND r.status IN ('queued', 'running') FOR UPDATE OF r`,
        [id],
      );
      await tx.delete(AppEntity, { id, teamId });
      return open.map((r) => ({ id: r.id, status: r.status, lastSeq: Number(r.last_seq ?? 0) }));
    });
  }
}
