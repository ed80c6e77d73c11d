import { Injectable } from '@nestjs/common';
import { DataSource, In, type Repository } from 'typeorm';
import { AppEntity } from '../persistence/entities';

@Injectable()
export class AppsRepository {
  private readonly apps: Repository<AppEntity>;

  constructor(dataSource: DataSource) {
    this.apps = dataSource.getRepository(AppEntity);
  }

  insert(app: Pick<AppEntity, 'id' | 'teamId' | 'name' | 'description' | 'template'>): Promise<AppEntity> {
    return this.apps.save(this.apps.create(app));
  }

  async delete(id: string): Promise<void> {
    await this.apps.delete({ id });
  }

  // Tenant-scoped: another team's app is indistinguishable from a missing one.
  findForTeam(teamId: string, id: string): Promise<AppEntity | null> {
    return this.apps.findOneBy({ id, teamId });
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
    const qb = this.apps.createQueryBuilder('a').where('a.team_id = :teamId', { teamId });
    if (after) qb.andWhere('(a.created_at, a.id) < (:createdAt, :id)', after);
    return qb.orderBy('a.created_at', 'DESC').addOrderBy('a.id', 'DESC').limit(limit).getMany();
  }
}
