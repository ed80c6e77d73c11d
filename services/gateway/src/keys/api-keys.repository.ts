import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ApiKeyEntity, TeamEntity } from '../persistence/entities';

@Injectable()
export class ApiKeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  // Concurrent callers for the same new slug end up with the same team.
  async findOrCreateTeam(slug: string): Promise<TeamEntity> {
    await this.dataSource.query(`INSERT INTO "gateway"."teams" (id, slug) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING`, [randomUUID(), slug]);
    return this.dataSource.getRepository(TeamEntity).findOneByOrFail({ slug });
  }

  insertKey(key: Omit<ApiKeyEntity, 'createdAt' | 'revokedAt'>): Promise<ApiKeyEntity> {
    const repo = this.dataSource.getRepository(ApiKeyEntity);
    return repo.save(repo.create({ ...key, revokedAt: null }));
  }

  findByPrefix(prefix: string): Promise<ApiKeyEntity | null> {
    return this.dataSource.getRepository(ApiKeyEntity).findOneBy({ prefix });
  }
}
