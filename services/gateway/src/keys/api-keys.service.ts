import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode, gatewayV1, type Rpc } from '@overskill/contracts';
import type { RpcRequest } from '@overskill/messaging';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { RoleName } from '../persistence/entities';
import { ApiKeysRepository } from './api-keys.repository';

export interface CreatedApiKey {
  keyId: string;
  key: string;
  prefix: string;
  teamId: string;
  teamSlug: string;
  role: gatewayV1.Role;
}

export interface Principal {
  keyId: string;
  keyPrefix: string;
  teamId: string;
  role: RoleName;
}

const ROLE_NAMES: Partial<Record<gatewayV1.Role, RoleName>> = {
  [gatewayV1.Role.OWNER]: 'owner',
  [gatewayV1.Role.ADMIN]: 'admin',
  [gatewayV1.Role.MEMBER]: 'member',
  [gatewayV1.Role.VIEWER]: 'viewer',
};
const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
// osk_<prefix>_<secret>: the prefix finds the row, the whole key's hash proves it.
const KEY_FORMAT = /^osk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

@Injectable()
export class ApiKeysService {
  constructor(private readonly keys: ApiKeysRepository) {}

  async create(req: RpcRequest<typeof Rpc.apiKeyCreate>): Promise<CreatedApiKey> {
    const role = ROLE_NAMES[req.role];
    if (!role) throw new AppError(ErrorCode.VALIDATION_FAILED, 'role must be owner, admin, member or viewer');
    if (!SLUG.test(req.teamSlug)) throw new AppError(ErrorCode.VALIDATION_FAILED, 'team must be 1-63 lowercase letters, digits or dashes');
    const name = req.name.trim() || 'unnamed';
    if (name.length > 100) throw new AppError(ErrorCode.VALIDATION_FAILED, 'name must be at most 100 characters');
    let expiresAt: Date | null = null;
    if (req.expiresAt) {
      expiresAt = new Date(req.expiresAt);
      if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now()) throw new AppError(ErrorCode.VALIDATION_FAILED, 'expires_at must be a future ISO-8601 time');
    }
    const team = await this.keys.findOrCreateTeam(req.teamSlug);
    const prefix = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12);
    const key = `osk_${prefix}_${randomBytes(32).toString('base64url')}`;
    const row = await this.keys.insertKey({ id: randomUUID(), teamId: team.id, prefix, keyHash: hashKey(key), role, name, expiresAt });
    return { keyId: row.id, key, prefix, teamId: team.id, teamSlug: team.slug, role: req.role };
  }

  // One answer for every failure, so a caller learns nothing about which keys exist.
  async authenticate(rawKey: string | undefined): Promise<Principal> {
    const match = rawKey ? KEY_FORMAT.exec(rawKey) : null;
    const row = match?.[1] ? await this.keys.findByPrefix(match[1]) : null;
    const valid =
      row !== null &&
      rawKey !== undefined &&
      safeEqualHex(row.keyHash, hashKey(rawKey)) &&
      row.revokedAt === null &&
      (row.expiresAt === null || row.expiresAt.getTime() > Date.now());
    if (!valid || !row) throw new AppError(ErrorCode.UNAUTHENTICATED, 'A valid API key is required (X-API-Key or Authorization: Bearer)');
    return { keyId: row.id, keyPrefix: row.prefix, teamId: row.teamId, role: row.role };
  }
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
