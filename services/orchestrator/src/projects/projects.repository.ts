import { Injectable } from '@nestjs/common';
import { PgState, violatesConstraint } from '@overskill/persistence';
import { DataSource, type Repository } from 'typeorm';
import { keysetBefore } from '../common/page-token';
import { ProjectEntity } from '../persistence/entities';

@Injectable()
export class ProjectsRepository {
  private readonly projects: Repository<ProjectEntity>;

  constructor(dataSource: DataSource) {
    this.projects = dataSource.getRepository(ProjectEntity);
  }

  // False when the team already has a project for the repository (the unique index decides).
  async insert(project: Omit<ProjectEntity, 'createdAt' | 'updatedAt'>): Promise<ProjectEntity | false> {
    try {
      return await this.projects.save(this.projects.create(project));
    } catch (err) {
      if (violatesConstraint(err, PgState.UNIQUE_VIOLATION)) return false;
      throw err;
    }
  }

  // Tenant-scoped: another team's project is indistinguishable from a missing one.
  findForTeam(teamId: string, id: string): Promise<ProjectEntity | null> {
    return this.projects.findOneBy({ id, teamId });
  }

  listForTeam(teamId: string, limit: number, after?: { createdAt: Date; id: string }): Promise<ProjectEntity[]> {
    const qb = this.projects.createQueryBuilder('p').where('p.team_id = :teamId', { teamId });
    if (after) qb.andWhere(keysetBefore('p', this.projects.metadata.tablePath, ':createdAt', ':id'), after);
    return qb.orderBy('p.created_at', 'DESC').addOrderBy('p.id', 'DESC').limit(limit).getMany();
  }

  async update(teamId: string, id: string, fields: Partial<ProjectEntity>): Promise<ProjectEntity | null> {
    if (Object.keys(fields).length > 0) await this.projects.update({ id, teamId }, fields);
    return this.findForTeam(teamId, id);
  }

  async delete(teamId: string, id: string): Promise<boolean> {
    const result = await this.projects.delete({ id, teamId });
    return (result.affected ?? 0) > 0;
  }
}
