import { ErrorCode } from '@overskill/contracts';
import type { ApiKeyEntity, TeamEntity } from '../persistence/entities';
import type { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService, type NewKeyRequest } from './api-keys.service';
import type { KeyCache } from './key-cache';

// The repository is the I/O boundary; this keeps rows in a map so the service logic is tested alone.
function repositoryWithRows() {
  const teams = new Map<string, TeamEntity>();
  const keys = new Map<string, ApiKeyEntity>();
  const repo: Partial<ApiKeysRepository> = {
    async findOrCreateTeam(slug) {
      const team = teams.get(slug) ?? { id: `0000000${teams.size + 1}-0000-4000-8000-000000000000`, slug, createdAt: new Date() };
      teams.set(slug, team);
      return team;
    },
    async findTeamById(id) {
      return [...teams.values()].find((t) => t.id === id) ?? null;
    },
    async insertKey(key) {
      const row = { ...key, revokedAt: null, rotatedAt: null, replacedBy: null, createdAt: new Date() } as ApiKeyEntity;
      keys.set(row.prefix, row);
      return row;
    },
    async findByPrefix(prefix) {
      return keys.get(prefix) ?? null;
    },
    async findById(id, teamId) {
      return [...keys.values()].find((k) => k.id === id && (!teamId || k.teamId === teamId)) ?? null;
    },
    async rotate(oldId, replacement, oldExpiresAt) {
      const old = [...keys.values()].find((k) => k.id === oldId && !k.revokedAt && !k.replacedBy);
      if (!old) return null;
      const created = { ...replacement, revokedAt: null, rotatedAt: null, replacedBy: null, createdAt: new Date() } as ApiKeyEntity;
      keys.set(created.prefix, created);
      Object.assign(old, { rotatedAt: new Date(), replacedBy: created.id, expiresAt: oldExpiresAt });
      return { created, old };
    },
    async revoke(id) {
      const row = [...keys.values()].find((k) => k.id === id) ?? null;
      if (row) row.revokedAt = new Date();
      return row;
    },
  };
  return { repo: repo as ApiKeysRepository, keys };
}

const noCache = {
  get: () => undefined,
  set: () => undefined,
  getOrLoad: (prefix: string, load: (prefix: string) => Promise<ApiKeyEntity | null>) => load(prefix),
  invalidate: jest.fn(async () => undefined),
};

function service(repo: ApiKeysRepository, cache: Pick<KeyCache, 'get' | 'set' | 'getOrLoad' | 'invalidate'> = noCache) {
  return new ApiKeysService(repo, cache as unknown as KeyCache, { GATEWAY_KEY_ROTATION_GRACE_SECONDS: 60 });
}

const create = (s: ApiKeysService, overrides: Partial<NewKeyRequest> = {}) =>
  s.create({ teamSlug: 'acme', role: 'owner', name: 'k', expiresAt: '', scopes: [], userEmail: '', ...overrides });

describe('ApiKeysService', () => {
  it('shows the key once, stores only its hash, and authenticates it', async () => {
    const { repo, keys } = repositoryWithRows();
    const s = service(repo);
    const created = await create(s, { scopes: ['apps:read'] });
    expect(created.key).toMatch(/^osk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    const stored = keys.get(created.prefix)!;
    expect(JSON.stringify(stored)).not.toContain(created.key.split('_').pop());
    await expect(s.authenticate(created.key)).resolves.toMatchObject({
      teamId: created.teamId,
      role: 'owner',
      keyPrefix: created.prefix,
      scopes: ['apps:read'],
    });
  });

  it('answers every bad key the same way', async () => {
    const { repo, keys } = repositoryWithRows();
    const s = service(repo);
    const created = await create(s);
    const tampered = created.key.slice(0, -1) + (created.key.endsWith('A') ? 'B' : 'A');
    const revoked = await create(s);
    keys.get(revoked.prefix)!.revokedAt = new Date();
    const expired = await create(s, { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    keys.get(expired.prefix)!.expiresAt = new Date(Date.now() - 1000);
    for (const bad of [undefined, '', 'osk_short', tampered, revoked.key, expired.key, `Bearer ${created.key}`]) {
      await expect(s.authenticate(bad)).rejects.toMatchObject({
        code: ErrorCode.UNAUTHENTICATED,
        message: 'A valid API key is required (X-API-Key or Authorization: Bearer)',
      });
    }
  });

  it('validates role, team slug, scopes, user and expiry', async () => {
    const s = service(repositoryWithRows().repo);
    await expect(create(s, { role: 'root' as never })).rejects.toMatchObject({ code: ErrorCode.VALIDATION_FAILED });
    await expect(create(s, { teamSlug: 'Bad Slug!' })).rejects.toMatchObject({ code: ErrorCode.VALIDATION_FAILED });
    await expect(create(s, { expiresAt: '2001-01-01T00:00:00Z' })).rejects.toMatchObject({ code: ErrorCode.VALIDATION_FAILED });
    await expect(create(s, { scopes: ['apps:read', 'everything'] })).rejects.toMatchObject({
      code: ErrorCode.VALIDATION_FAILED,
      message: expect.stringContaining('everything'),
    });
    await expect(create(s, { userEmail: 'not an email' })).rejects.toMatchObject({ code: ErrorCode.VALIDATION_FAILED });
  });

  it('refuses a malformed team slug when listing, before any lookup', async () => {
    const { repo } = repositoryWithRows();
    repo.findTeamBySlug = jest.fn(async () => null);
    const s = service(repo);
    for (const slug of ['', 'team\u0000', 'Bad Slug!', 'a'.repeat(64)]) {
      await expect(s.listBySlug(slug, false)).rejects.toMatchObject({ code: ErrorCode.VALIDATION_FAILED, message: expect.stringMatching(/^team must be/) });
    }
    expect(repo.findTeamBySlug).not.toHaveBeenCalled();
    await expect(s.listBySlug('nosuch', false)).rejects.toMatchObject({ code: ErrorCode.TEAM_NOT_FOUND });
  });

  it('rotates: the new key works, the old one until its grace ends, and caches are told', async () => {
    const { repo, keys } = repositoryWithRows();
    const cache = { ...noCache, invalidate: jest.fn(async () => undefined) };
    const s = service(repo, cache);
    const old = await create(s, { role: 'member', scopes: ['apps:read'] });
    const { created, old: oldView } = await s.rotate(old.keyId, 30);
    expect(created).toMatchObject({ role: 'member', scopes: ['apps:read'], teamId: old.teamId });
    expect(oldView.status).toBe('rotating');
    expect(new Date(oldView.expiresAt!).getTime()).toBeGreaterThan(Date.now() + 20_000);
    expect(cache.invalidate).toHaveBeenCalledWith(old.prefix);
    await expect(s.authenticate(old.key)).resolves.toMatchObject({ keyId: old.keyId });
    await expect(s.authenticate(created.key)).resolves.toMatchObject({ keyId: created.keyId });
    keys.get(old.prefix)!.expiresAt = new Date(Date.now() - 1);
    await expect(s.authenticate(old.key)).rejects.toMatchObject({ code: ErrorCode.UNAUTHENTICATED });
    // A rotated key cannot be rotated again (one successor), nor can a grace past 30 days be asked.
    await expect(s.rotate(old.keyId, 0)).rejects.toMatchObject({ code: ErrorCode.KEY_NOT_FOUND });
    await expect(s.rotate(created.keyId, 40 * 86_400)).rejects.toMatchObject({ code: ErrorCode.VALIDATION_FAILED });
  });

  it("revokes at once, and another team's key id is not found", async () => {
    const { repo } = repositoryWithRows();
    const s = service(repo);
    const key = await create(s);
    const other = await create(s, { teamSlug: 'other' });
    await expect(s.revoke(key.keyId, other.teamId)).rejects.toMatchObject({ code: ErrorCode.KEY_NOT_FOUND });
    await s.revoke(key.keyId, key.teamId);
    await expect(s.authenticate(key.key)).rejects.toMatchObject({ code: ErrorCode.UNAUTHENTICATED });
    await expect(s.revoke(key.keyId)).rejects.toMatchObject({ code: ErrorCode.KEY_NOT_FOUND });
  });

  it('trusts a key the edge verified only while its row is still cached and valid', async () => {
    const { repo, keys } = repositoryWithRows();
    // A cache that, like KeyCache, forgets a prefix when told to.
    const rows = new Map<string, ApiKeyEntity>();
    const cache = {
      get: (prefix: string) => rows.get(prefix),
      set: (row: ApiKeyEntity) => void rows.set(row.prefix, row),
      getOrLoad: async (prefix: string, load: (prefix: string) => Promise<ApiKeyEntity | null>) => {
        const row = rows.get(prefix) ?? (await load(prefix));
        if (row) rows.set(row.prefix, row);
        return row;
      },
      invalidate: jest.fn(async (prefix: string) => void rows.delete(prefix)),
    };
    const s = service(repo, cache);
    const key = await create(s, { role: 'viewer' });
    const other = await create(s, { teamSlug: 'other' });
    expect(s.cachedPrincipal(key.key)).toBeUndefined();
    await s.authenticate(key.key);
    await s.authenticate(other.key);
    const principal = s.cachedPrincipal(key.key)!;
    expect(principal).toMatchObject({ keyId: key.keyId, teamId: key.teamId, role: 'viewer' });
    expect(s.stillCached(principal)).toBe(true);
    // A tampered key never gets a principal; another team's cached row never stands for this key.
    expect(s.cachedPrincipal(`${key.key.slice(0, -1)}${key.key.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(s.stillCached({ ...principal, keyPrefix: other.prefix })).toBe(false);
    // Expired since the edge looked: refused.
    keys.get(key.prefix)!.expiresAt = new Date(Date.now() - 1);
    expect(s.stillCached(principal)).toBe(false);
    keys.get(key.prefix)!.expiresAt = null;
    // Revoked since the edge looked (the invalidation dropped the row): refused.
    await s.revoke(key.keyId);
    expect(s.stillCached(principal)).toBe(false);
    expect(s.cachedPrincipal(key.key)).toBeUndefined();
  });
});
