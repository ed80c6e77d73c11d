import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError, ErrorCode } from '@overskill/contracts';
import { requestContext } from '@overskill/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ROUTE_SPEC, type RouteSpec } from '../api/routes';
import { GATEWAY_ENV, type GatewayEnv } from '../config';
import { RateLimiter, rateLimitHeaders } from '../http/rate-limiter';
import { roleAllows, scopeAllows, type Principal } from './access';
import { ApiKeysService, AuthenticationError, type AuthFailure } from './api-keys.service';

export type AuthenticatedRequest = FastifyRequest & { principal: Principal };
export type AuditableRequest = FastifyRequest & { principal?: Principal; authFailure?: AuthFailure; errorCode?: string };

// Every /api route: a valid key, a role and scopes that allow the route, and the key's own
// rate limit. The route's spec (from @ApiRoute) says what it needs; a route declared without
// one (the AI routes in src/llm, which check roles themselves) gets the baseline rule: a viewer
// only reads, scopes are not consulted.
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
    @Inject(GATEWAY_ENV) private readonly env: GatewayEnv,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuditableRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const spec = this.reflector.get<RouteSpec | undefined>(ROUTE_SPEC, context.getHandler()) ?? baselineSpec(request.method, request.routeOptions.url ?? request.url);
    const result = await this.keys.check(presentedKey(request));
    if ('failure' in result) {
      request.authFailure = result.failure;
      throw new AuthenticationError(result.failure);
    }
    const principal = result.principal;
    request.principal = principal;
    const ctx = requestContext.get();
    if (ctx) ctx.tenantId = principal.teamId;

    const decision = await this.limiter.hit(`key:${principal.keyId}`, this.env.GATEWAY_RATE_LIMIT_KEY_MAX, this.env.GATEWAY_RATE_LIMIT_KEY_WINDOW_SECONDS);
    // The tighter of the IP and key budgets is what the caller sees.
    const ipRemaining = Number(reply.getHeader('ratelimit-remaining') ?? Number.POSITIVE_INFINITY);
    if (!decision.allowed || decision.remaining < ipRemaining) void reply.headers(rateLimitHeaders(decision));
    if (!decision.allowed) {
      void reply.header('retry-after', String(decision.resetSeconds));
      throw new AppError(ErrorCode.RATE_LIMITED, `This key made more than ${decision.limit} requests in ${decision.windowSeconds} s; retry after ${decision.resetSeconds} s`);
    }

    if (!roleAllows(principal.role, spec.minRole)) {
      throw new AppError(ErrorCode.FORBIDDEN, `This key has the ${principal.role} role; ${spec.method} ${spec.path} needs ${spec.minRole} or above`);
    }
    if (spec.scope && !scopeAllows(principal.scopes, spec.scope)) {
      throw new AppError(ErrorCode.FORBIDDEN, `This key's scopes do not include ${spec.scope}`);
    }
    return true;
  }
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function baselineSpec(method: string, path: string): Pick<RouteSpec, 'method' | 'path' | 'minRole'> & { scope?: RouteSpec['scope'] } {
  return { method: method as RouteSpec['method'], path, minRole: READ_METHODS.has(method) ? 'viewer' : 'member' };
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header) return header.trim();
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && auth.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  return undefined;
}
