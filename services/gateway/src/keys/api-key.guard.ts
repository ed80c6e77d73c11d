import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { requestContext } from '@overskill/observability';
import type { FastifyRequest } from 'fastify';
import { ApiKeysService, type Principal } from './api-keys.service';

export type AuthenticatedRequest = FastifyRequest & { principal: Principal };

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

// Every /api route: a key, and a role allowed to do what the method asks.
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly keys: ApiKeysService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = await this.keys.authenticate(presentedKey(request));
    if (principal.role === 'viewer' && !READ_METHODS.has(request.method)) {
      throw new AppError(ErrorCode.FORBIDDEN, 'This key has the viewer role and cannot make changes');
    }
    request.principal = principal;
    const ctx = requestContext.get();
    if (ctx) ctx.tenantId = principal.teamId;
    return true;
  }
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header) return header.trim();
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && auth.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  return undefined;
}
