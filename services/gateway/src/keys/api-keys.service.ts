import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, gatewayV1, isEntityId } from '@overskill/contracts';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { GATEWAY_ENV, type GatewayEnv } from '../config';
import type { ApiKeyEntity, RoleName } from '../persistence/entities';
import { AuthenticationError, ROLE_RANK, SCOPES, type AuthCheck, type Principal } from '../routing/access';
import { ApiKeysRepository } from './api-keys.repository';
import { KeyCache } from './key-cache';

export interface NewKeyRequest {
  teamSlug?: string;
  teamId?: string;
  role: RoleName;
  name: string;
  scopes: string[];
  expiresAt: string;
  userEmail: string;
}

export interface CreatedApiKey {
  keyId: string;
  key: string;
  prefix: string;
  teamId: string;
  teamSlug: string;
  role: RoleName;
  name: string;
  scopes: string[];
  expiresAt: string | null;
}

export interface ApiKeyView {
  id: string;
  prefix: string;
  teamId: string;
  role: RoleName;
  name: string;
  scopes: string[];
  userEmail: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  rotatedAt: string | null;
  replacedBy: string | null;
  status: 'active' | 'expired' | 'revoked' | 'rotating';
}

export const ROLE_NAMES: Partial<Record<gatewayV1.Role, RoleName>> = {
  [gatewayV1.Role.OWNER]: 'owner',
  [gatewayV1.Role.ADMIN]: 'admin',
  [gatewayV1.Role.MEMBER]: 'member',
  [gatewayV1.Role.VIEWER]: 'viewer',
};
export const ROLE_ENUMS: Record<RoleName, gatewayV1.Role> = {
  owner: gatewayV1.Role.OWNER,
  admin: gatewayV1.Role.ADMIN,
  member: gatewayV1.Role.MEMBER,
  viewer: gatewayV1.Role.VIEWER,
};

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,189}$/;
// osk_<prefix>_<secret>: the prefix finds the row, the whole key's hash proves it.
const KEY_FORMAT = /^osk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

function assertSlug(slug: string | undefined): asserts slug is string {
  if (!slug || !SLUG.test(slug)) throw new AppError(ErrorCode.VALIDATION_FAILED, 'team must be 1-63 lowercase letters, digits or dashes');
}

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly cache: KeyCache,
    @Inject(GATEWAY_ENV) private readonly env: Pick<GatewayEnv, 'GATEWAY_KEY_ROTATION_GRACE_SECONDS'>,
  ) {}

  async create(req: NewKeyRequest): Promise<CreatedApiKey> {
    if (!ROLE_RANK[req.role]) throw new AppError(ErrorCode.VALIDATION_FAILED, 'role must be owner, admin, member or viewer');
    const name = req.name.trim() || 'unnamed';
    if (name.length > 100) throw new AppError(ErrorCode.VALIDATION_FAILED, 'name must be at most 100 characters');
    const scopes = [...new Set(req.scopes.map((s) => s.trim()).filter(Boolean))];
    const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (unknown.length > 0) throw new AppError(ErrorCode.VALIDATION_FAILED, `unknown scope ${unknown.join(', ')}; known scopes: ${SCOPES.join(', ')}`);
    let expiresAt: Date | null = null;
    if (req.expiresAt) {
      expiresAt = new Date(req.expiresAt);
      if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())
        throw new AppError(ErrorCode.VALIDATION_FAILED, 'expires_at must be a future ISO-8601 time');
    }
    const email = req.userEmail.trim().toLowerCase();
    if (email && !EMAIL.test(email)) throw new AppError(ErrorCode.VALIDATION_FAILED, 'user must be an email address');
    let team;
    if (req.teamId) {
      team = await this.keys.findTeamById(req.teamId);
      if (!team) throw new AppError(ErrorCode.TEAM_NOT_FOUND, 'No such team');
    } else {
      assertSlug(req.teamSlug);
      team = await this.keys.findOrCreateTeam(req.teamSlug);
    }
    const userId = email ? (await this.keys.findOrCreateUser(team.id, email)).id : null;
    const { key, row } = newKey({ teamId: team.id, role: req.role, name, scopes, expiresAt, userId });
    const saved = await this.keys.insertKey(row);
    return createdView(saved, key, team.slug);
  }

  async list(teamId: string, includeRevoked: boolean): Promise<ApiKeyView[]> {
    const rows = await this.keys.listByTeam(teamId, includeRevoked);
    const emails = await this.keys.userEmails(rows.map((r) => r.userId).filter((id): id is string => !!id));
    return rows.map((r) => keyView(r, r.userId ? (emails.get(r.userId) ?? null) : null));
  }

  async listForAudit() {
    const rows = await this.keys.listForAudit();
    const iso = (d: Date | null) => (d ? new Date(d).toISOString() : '');
    return rows.map((r) => ({
      keyId: r.id,
      prefix: r.prefix,
      teamSlug: r.team_slug,
      name: r.name,
      expiresAt: iso(r.expires_at),
      createdAt: iso(r.created_at),
      lastUsedAt: iso(r.last_used_at),
    }));
  }

  async listBySlug(slug: string, includeRevoked: boolean): Promise<{ teamSlug: string; keys: ApiKeyView[] }> {
    assertSlug(slug);
    const team = await this.keys.findTeamBySlug(slug);
    if (!team) throw new AppError(ErrorCode.TEAM_NOT_FOUND, `No team "${slug}"`);
    return { teamSlug: team.slug, keys: await this.list(team.id, includeRevoked) };
  }

  // A new key with the same team, role and scopes; the old one works until the grace ends.
  async rotate(keyId: string, graceSeconds: number | undefined, teamId?: string): Promise<{ created: CreatedApiKey; old: ApiKeyView }> {
    const grace = graceSeconds ?? this.env.GATEWAY_KEY_ROTATION_GRACE_SECONDS;
    if (!Number.isInteger(grace) || grace < 0 || grace > 30 * 86_400)
      throw new AppError(ErrorCode.VALIDATION_FAILED, 'graceSeconds must be an integer 0-2592000');
    const old = await this.findLive(keyId, teamId);
    const team = await this.keys.findTeamById(old.teamId);
    const { key, row } = newKey({ teamId: old.teamId, role: old.role, name: old.name, scopes: old.scopes, expiresAt: old.expiresAt, userId: old.userId });
    const rotated = await this.keys.rotate(old.id, row, new Date(Date.now() + grace * 1000));
    if (!rotated) throw new AppError(ErrorCode.KEY_NOT_FOUND, 'No such key, or it was already revoked or rotated');
    await this.cache.invalidate(old.prefix);
    return { created: createdView(rotated.created, key, team?.slug ?? ''), old: keyView(rotated.old, null) };
  }

  // For the few platform-wide routes only (GATEWAY_OPERATOR_TEAMS lists slugs).
  async teamSlug(teamId: string): Promise<string | null> {
    return (await this.keys.findTeamById(teamId))?.slug ?? null;
  }

  async revoke(keyId: string, teamId?: string): Promise<ApiKeyView> {
    const key = await this.findLive(keyId, teamId);
    const revoked = await this.keys.revoke(key.id);
    await this.cache.invalidate(key.prefix);
    if (!revoked) throw new AppError(ErrorCode.KEY_NOT_FOUND, 'No such key');
    return keyView(revoked, null);
  }

  private async findLive(keyId: string, teamId?: string): Promise<ApiKeyEntity> {
    const key = isEntityId(keyId) ? await this.keys.findById(keyId, teamId) : null;
    if (!key || key.revokedAt) throw new AppError(ErrorCode.KEY_NOT_FOUND, 'No such key, or it was already revoked');
    return key;
  }

  // One answer for every failure, so a caller learns nothing about which keys exist.
  async authenticate(rawKey: string | undefined): Promise<Principal> {
    const result = await this.check(rawKey);
    if ('failure' in result) throw new AuthenticationError(result.failure);
    return result.principal;
  }

  async check(rawKey: string | undefined): Promise<AuthCheck> {
    const match = rawKey ? KEY_FORMAT.exec(rawKey) : null;
    return this.checkHash(match?.[1], match && rawKey ? hashKey(rawKey) : undefined);
  }

  // The same check from the key's prefix and hash, for console sessions (which keep no secret).
  async checkHash(prefix: string | undefined, keyHash: string | undefined): Promise<AuthCheck> {
    const row = prefix ? await this.cache.getOrLoad(prefix, (p) => this.keys.findByPrefix(p)) : null;
    const principal = row ? principalOf(row, keyHash) : undefined;
    if (!principal) return { failure: { teamId: row?.teamId ?? null, keyPrefix: row?.prefix ?? '', keyId: row?.id ?? '' } };
    return { principal };
  }

  // The same check answered from this replica's key cache alone (no I/O), when the key's row is
  // there: lets the edge count the key's rate limit in the IP limit's Redis round trip.
  cachedPrincipal(rawKey: string | undefined): Principal | undefined {
    const match = rawKey ? KEY_FORMAT.exec(rawKey) : null;
    const row = match?.[1] ? this.cache.get(match[1]) : undefined;
    return row && rawKey ? principalOf(row, hashKey(rawKey)) : undefined;
  }

  // For a principal cachedPrincipal() gave earlier in the same request: no second hash.
  stillCached(principal: Principal): boolean {
    return stillValidRow(this.cache.get(principal.keyPrefix), principal);
  }
}

// A principal from cachedPrincipal() whose row is still cached and still valid now.
function stillValidRow(row: ApiKeyEntity | undefined, principal: Principal): boolean {
  return !!row && row.id === principal.keyId && row.revokedAt === null && (row.expiresAt === null || row.expiresAt.getTime() > Date.now());
}

function principalOf(row: ApiKeyEntity, keyHash: string | undefined): Principal | undefined {
  const valid =
    keyHash !== undefined && safeEqualHex(row.keyHash, keyHash) && row.revokedAt === null && (row.expiresAt === null || row.expiresAt.getTime() > Date.now());
  return valid ? { keyId: row.id, keyPrefix: row.prefix, teamId: row.teamId, role: row.role, scopes: row.scopes ?? [] } : undefined;
}

function newKey(fields: Pick<ApiKeyEntity, 'teamId' | 'role' | 'name' | 'scopes' | 'expiresAt' | 'userId'>) {
  const prefix = randomBytes(9)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 12);
  const key = `osk_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, row: { id: randomUUID(), prefix, keyHash: hashKey(key), ...fields } };
}

function createdView(row: ApiKeyEntity, key: string, teamSlug: string): CreatedApiKey {
  return {
    keyId: row.id,
    key,
    prefix: row.prefix,
    teamId: row.teamId,
    teamSlug,
    role: row.role,
    name: row.name,
    scopes: row.scopes,
    expiresAt: iso(row.expiresAt),
  };
}

export function keyView(row: ApiKeyEntity, userEmail: string | null): ApiKeyView {
  const now = Date.now();
  const status = row.revokedAt ? 'revoked' : row.expiresAt && row.expiresAt.getTime() <= now ? 'expired' : row.replacedBy ? 'rotating' : 'active';
  return {
    id: row.id,
    prefix: row.prefix,
    teamId: row.teamId,
    role: row.role,
    name: row.name,
    scopes: row.scopes ?? [],
    userEmail,
    createdAt: row.createdAt.toISOString(),
    expiresAt: iso(row.expiresAt),
    revokedAt: iso(row.revokedAt),
    rotatedAt: iso(row.rotatedAt),
    replacedBy: row.replacedBy,
    status,
  };
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
