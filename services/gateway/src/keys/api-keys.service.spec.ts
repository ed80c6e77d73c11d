import { ErrorCode, gatewayV1 } from '@overskill/contracts';
import type { ApiKeyEntity, TeamEntity } from '../persistence/entities';
import type { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';

// The repository is the I/O boundary; this keeps rows in a map so the service logic is tested alone.
function repositoryWithRows() {
  const teams = new Map<string, TeamEntity>();
  const keys = new Map<string, ApiKeyEntity>();
  const repo: Pick<ApiKeysRepository, 'findOrCreateTeam' | 'insertKey' | 'findByPrefix'> = {
    async findOrCreateTeam(slug) {
      const team = teams.get(slug) ?? { id: `team-${teams.size + 1}`, slug, createdAt: new Date() };
      teams.set(slug, team);
      return team;
    },
    async insertKey(key) {
      const row = { ...key, revokedAt: null, createdAt: new Date() } as ApiKeyEntity;
      keys.set(row.prefix, row);
      return row;
    },
    async findByPrefix(prefix) {
      return keys.get(prefix) ?? null;
    },
  };
  return { repo: repo as ApiKeysRepository, keys };
}

describe('ApiKeysService', () => {
  const create = (service: ApiKeysService, overrides: Partial<{ teamSlug: string; role: gatewayV1.Role; expiresAt: string }> = {}) =>
    service.create({ $typeName: 'overskill.gateway.v1.ApiKeyCreateRequest', teamSlug: 'acme', role: gatewayV1.Role.OWNER, name: 'k', expiresAt: '', ...overrides });

  it('shows the key once, stores only its hash, and authenticates it', async () => {
    const { repo, keys } = repositoryWithRows();
    const service = new ApiKeysService(repo);
    const created = await create(service);
    expect(created.key).toMatch(/^osk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    const stored = keys.get(created.prefix)!;
    expect(JSON.stringify(stored)).not.toContain(created.key.split('_').pop());
    await expect(service.authenticate(created.key)).resolves.toMatchObject({ teamId: created.teamId, role: 'owner', keyPrefix: created.prefix });
  });

  it('answers every bad key the same way', async () => {
    const { repo, keys } = repositoryWithRows();
    const service = new ApiKeysService(repo);
    const created = await create(service);
    const tampered = created.key.slice(0, -1) + (created.key.endsWith('A') ? 'B' : 'A');
    const revoked = await create(service);
    keys.get(revoked.prefix)!.revokedAt = new Date();
    const expired = await create(service, { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    keys.get(expired.prefix)!.expiresAt = new Date(Date.now() - 1000);
    for (const bad of [undefined, '', 'osk_short', tampered, revoked.key, expired.key, `Bearer ${created.key}`]) {
      await expect(service.authenticate(bad)).rejects.toMatchObject({ code: ErrorCode.UNAUTHENTICATED, message: 'A valid API key is required (X-API-Key or Authorization: Bearer)' });
    }
  });

  it('validates role, team slug and expiry', async () => {
    const service = new ApiKeysService(repositoryWithRows().repo);
    await expect(create(service, { role: gatewayV1.Role.UNSPECIFIED })).rejects.toMatchObject({ code: ErrorCode.VALIDATION_FAILED });
    await expect(create(service, { teamSlug: 'Bad Slug!' })).rejects.toMatchObject({ code: ErrorCode.VALIDATION_FAILED });
    await expect(create(service, { expiresAt: '2001-01-01T00:00:00Z' })).rejects.toMatchObject({ code: ErrorCode.VALIDATION_FAILED });
  });
});
