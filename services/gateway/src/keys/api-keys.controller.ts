import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AppError, ErrorCode, gatewayV1, Rpc } from '@overskill/contracts';
import { RpcHandler, type RpcReply, type RpcRequest } from '@overskill/messaging';
import { requestContext } from '@overskill/observability';
import { AuditService } from '../audit/audit.service';
import { ApiKeysService, ROLE_ENUMS, ROLE_NAMES, type ApiKeyView, type CreatedApiKey } from './api-keys.service';

// NATS only: the operator CLI mints keys (the bootstrap key included; there is no default key),
// lists, rotates and revokes them. NATS is the trust boundary; every action is audited as "cli".
@Controller()
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly audit: AuditService,
  ) {}

  @RpcHandler(Rpc.apiKeyCreate)
  async create(@Payload() req: RpcRequest<typeof Rpc.apiKeyCreate>): Promise<RpcReply<typeof Rpc.apiKeyCreate>> {
    const role = ROLE_NAMES[req.role];
    if (!role) throw new AppError(ErrorCode.VALIDATION_FAILED, 'role must be owner, admin, member or viewer');
    const created = await this.keys.create({
      teamSlug: req.teamSlug,
      role,
      name: req.name,
      scopes: req.scopes,
      expiresAt: req.expiresAt,
      userEmail: req.userEmail,
    });
    await this.cliAudit('cli keys create', created.teamId, `key:${created.keyId}`);
    return createdReply(created);
  }

  @RpcHandler(Rpc.apiKeyList)
  async list(@Payload() req: RpcRequest<typeof Rpc.apiKeyList>): Promise<RpcReply<typeof Rpc.apiKeyList>> {
    const { teamSlug, keys } = await this.keys.listBySlug(req.teamSlug, req.includeRevoked);
    return { keys: keys.map((k) => infoReply(k, teamSlug)) };
  }

  // The security audit's question: which keys are past expiry or unused.
  @RpcHandler(Rpc.apiKeyAudit)
  async auditList(): Promise<RpcReply<typeof Rpc.apiKeyAudit>> {
    return { keys: await this.keys.listForAudit() };
  }

  @RpcHandler(Rpc.apiKeyRotate)
  async rotate(@Payload() req: RpcRequest<typeof Rpc.apiKeyRotate>): Promise<RpcReply<typeof Rpc.apiKeyRotate>> {
    const { created, old } = await this.keys.rotate(req.keyId, req.graceSeconds);
    await this.cliAudit('cli keys rotate', created.teamId, `key:${old.id}`);
    return { created: createdReply(created), oldKeyId: old.id, oldKeyExpiresAt: old.expiresAt ?? '' };
  }

  @RpcHandler(Rpc.apiKeyRevoke)
  async revoke(@Payload() req: RpcRequest<typeof Rpc.apiKeyRevoke>): Promise<RpcReply<typeof Rpc.apiKeyRevoke>> {
    const revoked = await this.keys.revoke(req.keyId);
    await this.cliAudit('cli keys revoke', revoked.teamId, `key:${revoked.id}`);
    return { keyId: revoked.id, revokedAt: revoked.revokedAt ?? '' };
  }

  private async cliAudit(action: string, teamId: string, target: string): Promise<void> {
    await this.audit.record({
      teamId,
      actor: 'cli',
      keyPrefix: '',
      action,
      target,
      ip: '',
      result: 'ok',
      status: 0,
      correlationId: requestContext.get()?.correlationId ?? '',
    });
  }
}

function createdReply(c: CreatedApiKey): RpcReply<typeof Rpc.apiKeyCreate> {
  return {
    keyId: c.keyId,
    key: c.key,
    prefix: c.prefix,
    teamId: c.teamId,
    teamSlug: c.teamSlug,
    role: ROLE_ENUMS[c.role],
    scopes: c.scopes,
    expiresAt: c.expiresAt ?? '',
  };
}

function infoReply(k: ApiKeyView, teamSlug: string): gatewayV1.ApiKeyInfo {
  return {
    $typeName: 'overskill.gateway.v1.ApiKeyInfo',
    keyId: k.id,
    prefix: k.prefix,
    teamId: k.teamId,
    teamSlug,
    role: ROLE_ENUMS[k.role],
    name: k.name,
    scopes: k.scopes,
    expiresAt: k.expiresAt ?? '',
    revokedAt: k.revokedAt ?? '',
    rotatedAt: k.rotatedAt ?? '',
    replacedBy: k.replacedBy ?? '',
    createdAt: k.createdAt,
    userEmail: k.userEmail ?? '',
  };
}
