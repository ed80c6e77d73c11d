import { Controller, Req, UseGuards } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { ApiRoute, parseRequest, ROUTES } from '../routing/routes';
import type { RoleName } from '../persistence/entities';
import { ROLE_RANK, type Principal } from '../routing/access';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedRequest } from '../routing/request';
import { ApiKeysService, type CreatedApiKey } from './api-keys.service';

const R = ROUTES;

// Key management for owners and admins, always inside the caller's team. Nobody mints or
// touches a key above their own role, and a scoped key only mints keys within its scopes.
@Controller()
@UseGuards(ApiKeyGuard)
export class ApiKeysHttpController {
  constructor(private readonly keys: ApiKeysService) {}

  @ApiRoute(R.listKeys)
  async listKeys(@Req() req: AuthenticatedRequest) {
    const { query } = parseRequest(R.listKeys, req);
    return { data: await this.keys.list(req.principal.teamId, query.includeRevoked === 'true') };
  }

  @ApiRoute(R.createKey)
  async createKey(@Req() req: AuthenticatedRequest) {
    const { body } = parseRequest(R.createKey, req);
    const p = req.principal;
    assertNotAbove(p, body.role as RoleName);
    if (p.scopes.length > 0) {
      const wider = body.scopes.length === 0 ? ['(all)'] : body.scopes.filter((s) => !p.scopes.includes(s));
      if (wider.length > 0) throw new AppError(ErrorCode.FORBIDDEN, `A scoped key can only create keys within its own scopes (${p.scopes.join(', ')})`);
    }
    const created = await this.keys.create({
      teamId: p.teamId,
      role: body.role as RoleName,
      name: body.name,
      scopes: body.scopes,
      expiresAt: body.expiresAt ?? '',
      userEmail: body.userEmail ?? '',
    });
    return createdJson(created);
  }

  @ApiRoute(R.rotateKey)
  async rotateKey(@Req() req: AuthenticatedRequest) {
    const { params, body } = parseRequest(R.rotateKey, req);
    await this.assertManageable(req.principal, params.keyId);
    const rotated = await this.keys.rotate(params.keyId, body.graceSeconds, req.principal.teamId);
    return { created: createdJson(rotated.created), old: rotated.old };
  }

  @ApiRoute(R.revokeKey)
  async revokeKey(@Req() req: AuthenticatedRequest) {
    const { params } = parseRequest(R.revokeKey, req);
    await this.assertManageable(req.principal, params.keyId);
    return this.keys.revoke(params.keyId, req.principal.teamId);
  }

  private async assertManageable(p: Principal, keyId: string): Promise<void> {
    const target = (await this.keys.list(p.teamId, true)).find((k) => k.id === keyId);
    // Another team's key, or none: the same 404.
    if (!target || target.revokedAt) throw new AppError(ErrorCode.KEY_NOT_FOUND, 'No such key, or it was already revoked');
    assertNotAbove(p, target.role);
  }
}

function assertNotAbove(p: Principal, role: RoleName): void {
  if (ROLE_RANK[role] > ROLE_RANK[p.role]) throw new AppError(ErrorCode.FORBIDDEN, `A ${p.role} key cannot manage ${role} keys`);
}

function createdJson(c: CreatedApiKey) {
  return { id: c.keyId, key: c.key, prefix: c.prefix, teamId: c.teamId, role: c.role, name: c.name, scopes: c.scopes, expiresAt: c.expiresAt };
}
