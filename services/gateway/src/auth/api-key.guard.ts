import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError, ErrorCode } from '@overskill/contracts';
import { requestContext } from '@overskill/observability';
import type { FastifyReply } from 'fastify';
import { ROUTE_SPEC, type RouteSpec } from '../routing/routes';
import { GATEWAY_ENV, type GatewayEnv } from '../config';
import { keyRateHit, RateLimiter, rateLimitHeaders } from '../http/rate-limiter';
import { AuthenticationError, roleAllows, scopeAllows } from '../routing/access';
import type { AuditableRequest } from '../routing/request';
import { RequestCredentials } from './request-credentials';

// Every /api route: a valid key, a role and scopes that allow the route, and the key's own
// rate limit. The route's spec (from @ApiRoute) says what it needs; a route without one is refused.
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly credentials: RequestCredentials,
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
    @Inject(GATEWAY_ENV) private readonly env: GatewayEnv,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuditableRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const spec = this.reflector.get<RouteSpec | undefined>(ROUTE_SPEC, context.getHandler());
    if (!spec) throw new AppError(ErrorCode.INTERNAL, 'route has no access rule');
    if (spec.public) return true;
    const result = await this.credentials.authenticate(request);
    if ('failure' in result) {
      request.authFailure = result.failure;
      throw new AuthenticationError(result.failure);
    }
    const principal = result.principal;
    request.principal = principal;
    const ctx = requestContext.get();
    if (ctx) ctx.tenantId = principal.teamId;

    const counted = request.keyRate?.principal.keyId === principal.keyId ? request.keyRate.decision : undefined;
    const decision = counted ?? (await this.limiter.hitAll([keyRateHit(principal.keyId, this.env)]))[0];
    if (!decision) throw new AppError(ErrorCode.INTERNAL, 'the rate limiter gave no decision');
    // The tighter of the IP and key budgets is what the caller sees.
    const ipRemaining = Number(reply.getHeader('ratelimit-remaining') ?? Number.POSITIVE_INFINITY);
    if (!decision.allowed || decision.remaining < ipRemaining) void reply.headers(rateLimitHeaders(decision));
    if (!decision.allowed) {
      void reply.header('retry-after', String(decision.resetSeconds));
      throw new AppError(
        ErrorCode.RATE_LIMITED,
        `This key made more than ${decision.limit} requests in ${decision.windowSeconds} s; retry after ${decision.resetSeconds} s`,
      );
    }

    if (!roleAllows(principal.role, spec.minRole)) {
      throw new AppError(ErrorCode.FORBIDDEN, `This key has the ${principal.role} role; ${spec.method} ${spec.path} needs ${spec.minRole} or above`);
    }
    if (!scopeAllows(principal.scopes, spec.scope)) {
      throw new AppError(ErrorCode.FORBIDDEN, `This key's scopes do not include ${spec.scope}`);
    }
    if (spec.operatorOnly && !this.env.GATEWAY_OPERATOR_TEAMS.includes((await this.credentials.teamSlug(principal.teamId)) ?? '')) {
      throw new AppError(
        ErrorCode.FORBIDDEN,
        `${spec.method} ${spec.path} changes the whole platform: only keys of the operator teams (GATEWAY_OPERATOR_TEAMS) may call it`,
      );
    }
    return true;
  }
}
