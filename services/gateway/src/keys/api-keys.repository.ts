import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, IsNull } from 'typeorm';
import { ApiKeyEntity, TeamEntity, UserEntity } from '../persistence/entities';

export type NewApiKey = Omit<ApiKeyEntity, 'createdAt' | 'revokedAt' | 'rotatedAt' | 'replacedBy'>;

@Injectable()
export class ApiKeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  // Concurrent callers for the same new slug end up with the same team.
  async findOrCreateTeam(slug: string): Promise<TeamEntity> {
    await this.dataSource.query(`INSERT INTO "gateway"."teams" (id, slug) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING`, [randomUUID(), slug]);
    return this.dataSource.getRepository(TeamEntity).findOneByOrFail({ slug });
  }

  findTeamBySlug(slug: string): Promise<TeamEntity | null> {
    return this.dataSource.getRepository(TeamEntity).findOneBy({ slug });
  }

  findTeamById(id: string): Promise<TeamEntity | null> {
    return this.dataSource.getRepository(TeamEntity).findOneBy({ id });
  }

  async findOrCreateUser(teamId: string, email: string): Promise<UserEntity> {
    await this.dataSource.query(`INSERT INTO "gateway"."users" (id, team_id, email) VALUES ($1, $2, $3) ON CONFLICT (team_id, email) DO NOTHING`, [
      randomUUID(),
      teamId,
      email,
    ]);
    return this.dataSource.getRepository(UserEntity).findOneByOrFail({ teamId, email });
  }

  async userEmails(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows: Array<{ id: string; email: string }> = await this.dataSource.query(`SELECT id, email FROM "gateway"."users" WHERE id = ANY($1::uuid[])`, [ids]);
    return new Map(rows.map((r) => [r.id, r.email]));
  }

  insertKey(key: NewApiKey): Promise<ApiKeyEntity> {
    const repo = this.dataSource.getRepository(ApiKeyEntity);
    return repo.save(repo.create({ ...key, revokedAt: null, rotatedAt: null, replacedBy: null }));
  }

  findByPrefix(prefix: string): Promise<ApiKeyEntity | null> {
    return this.dataSource.getRepository(ApiKeyEntity).findOneBy({ prefix });
  }

  // Scoped by team when one is given: another team's key id reads as missing.
  findById(id: string, teamId?: string): Promise<ApiKeyEntity | null> {
    return this.dataSource.getRepository(ApiKeyEntity).findOneBy(teamId ? { id, teamId } : { id });
  }

  listByTeam(teamId: string, includeRevoked: boolean): Promise<ApiKeyEntity[]> {
    return this.dataSource.getRepository(ApiKeyEntity).find({
      where: includeRevoked ? { teamId } : { teamId, revokedAt: IsNull() },
      order: { createdAt: 'ASC', id: 'ASC' },
      take: 1000,
    });
  }

  // The new key and the old key's shortened life in one transaction: never two live keys
  // without a link, never a rotation that half happened.
  async rotate(oldId: string, replacement: NewApiKey, oldExpiresAt: Date): Promise<{ created: ApiKeyEntity; old: ApiKeyEntity } | null> {
    return this.dataSource.transaction(async (em) => {
      const repo = em.getRepository(ApiKeyEntity);
      const old = await repo.findOne({ where: { id: oldId, revokedAt: IsNull() }, lock: { mode: 'pessimistic_write' } });
      if (!old || old.replacedBy) return null;
      const created = await repo.save(repo.create({ ...replacement, revokedAt: null, rotatedAt: null, replacedBy: null }));
      const expiresAt = old.expiresAt && old.expiresAt < oldExpiresAt ? old.expiresAt : oldExpiresAt;
      await repo.update({ id: oldId }, { rotatedAt: new Date(), replacedBy: created.id, expiresAt });
      return { created, old: { ...old, rotatedAt: new Date(), replacedBy: created.id, expiresAt } };
    });
  }

  // Every key not revoked, with its team and the newest audited request made with it (the security audit).
  async listForAudit(): Promise<
    { id: string; prefix: string; team_slug: string; name: string; expires_at: Date | null; created_at: Date; last_used_at: Date | null }[]
  > {
    return this.dataSource.query(
      `SELECT k.id, k.prefix, t.slug AS team_slug, k.name, k.expires_at, k.created_at,
              (SELECT max(a.occurred_at) FROM "gateway"."audit_log" a WHERE a.actor = k.id::text) AS last_used_at
       FROM "gateway"."api_keys" k JOIN "gateway"."teams" t ON t.id = k.team_id
       WHERE k.revoked_at IS NULL ORDER BY k.created_at, k.id LIMIT 10000`,
    );
  }

  async revoke(id: string): Promise<ApiKeyEntity | null> {
    await this.dataSource.query(`UPDATE "gateway"."api_keys" SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
    return this.findById(id);
  }
}
