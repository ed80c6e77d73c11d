import { Body, Controller, Get, HttpCode, Post, Query, Req, UseGuards } from '@nestjs/common';
import { AppError, ErrorCode, Rpc } from '@overskill/contracts';
import { NatsRpcClient } from '@overskill/messaging';
import { z } from 'zod';
import { ApiKeyGuard, type AuthenticatedRequest } from '../keys/api-key.guard';

const usageQuery = z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'day must be YYYY-MM-DD').optional() }).strict();
const switchBody = z.object({ alias: z.string().trim().min(1).max(32) }).strict();

function parse<S extends z.ZodTypeAny>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new AppError(ErrorCode.VALIDATION_FAILED, `${issue.path.join('.') || 'input'}: ${issue.message}`);
}

// Operator views of the router: owner and admin keys only.
@Controller('api/admin/ai')
@UseGuards(ApiKeyGuard)
export class AiAdminHttpController {
  constructor(private readonly rpc: NatsRpcClient) {}

  @Get('status')
  async status(@Req() req: AuthenticatedRequest) {
    requireAdmin(req);
    const s = await this.rpc.send(Rpc.aiRouterStatus, {});
    return {
      activeAlias: s.activeAlias,
      aliases: s.aliases.map((a) => ({ alias: a.alias, provider: a.provider, model: a.model })),
      breakers: s.breakers.map((b) => ({ model: b.model, state: b.state, consecutiveFailures: b.consecutiveFailures, openedAt: b.openedAt || null })),
      config: { source: s.configSource, loadedAt: s.configLoadedAt, priceTableVersion: s.priceTableVersion },
    };
  }

  @Get('cache')
  async cache(@Req() req: AuthenticatedRequest) {
    requireAdmin(req);
    const c = await this.rpc.send(Rpc.aiCacheStats, {});
    return { hits: Number(c.hits), misses: Number(c.misses), hitRate: c.hitRate, entries: Number(c.entries), bytes: Number(c.bytes), maxBytes: Number(c.maxBytes), ttlSeconds: c.ttlSeconds, evictions: Number(c.evictions) };
  }

  @Get('usage')
  async usage(@Req() req: AuthenticatedRequest, @Query() query: unknown) {
    requireAdmin(req);
    const { day } = parse(usageQuery, query);
    const u = await this.rpc.send(Rpc.aiUsageSummary, { teamId: req.principal.teamId, day: day ?? '' });
    return {
      teamId: u.teamId,
      day: u.day,
      requests: Number(u.requests),
      tokens: { input: Number(u.inputTokens), output: Number(u.outputTokens), cacheRead: Number(u.cacheReadInputTokens), cacheWrite: Number(u.cacheCreationInputTokens) },
      costUsd: u.costUsd,
      budgetUsd: u.budgetUsd,
      committedUsd: u.committedUsd,
      cacheHits: Number(u.cacheHits),
    };
  }

  @Post('model')
  @HttpCode(200)
  async switchModel(@Req() req: AuthenticatedRequest, @Body() body: unknown) {
    requireAdmin(req);
    const { alias } = parse(switchBody, body);
    const r = await this.rpc.send(Rpc.aiModelSwitch, { alias });
    return { activeAlias: r.activeAlias, previousAlias: r.previousAlias };
  }
}

function requireAdmin(req: AuthenticatedRequest): void {
  if (req.principal.role !== 'owner' && req.principal.role !== 'admin') {
    throw new AppError(ErrorCode.FORBIDDEN, 'Only owner and admin keys may see or change the model router');
  }
}
