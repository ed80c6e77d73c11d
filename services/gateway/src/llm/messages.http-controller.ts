import { Body, Controller, Req, Res, UseGuards } from '@nestjs/common';
import { AppError, ErrorCode, errorHttpStatus } from '@overskill/contracts';
import { requestContext } from '@overskill/observability';
import type { FastifyReply } from 'fastify';
import { ApiRoute, ROUTES } from '../routing/routes';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuthenticatedRequest } from '../routing/request';
import { parseMessagesRequest } from '../routing/anthropic-messages.schema';
import { LlmGatewayService } from './llm-gateway.service';

const ERROR_TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  503: 'overloaded_error',
};

// POST /api/v1/messages: the Anthropic Messages API, so any Anthropic client (baseURL = <gateway>/api)
// can use overskill as its gateway with a team key, under the team's limits and budgets.
@Controller()
@UseGuards(ApiKeyGuard)
export class MessagesHttpController {
  constructor(private readonly llm: LlmGatewayService) {}

  @ApiRoute(ROUTES.createLlmMessage)
  async create(@Req() req: AuthenticatedRequest, @Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    try {
      const request = parseMessagesRequest(body);
      if (!request.stream) {
        const { message, response } = await this.llm.create(req.principal, request);
        void reply
          .status(200)
          .headers({
            'x-overskill-cost-usd': response.costUsd.toFixed(9),
            'x-overskill-attempts': String(response.attempts),
            'x-overskill-fallback': String(response.fallbackUsed),
            'x-overskill-cache': response.cacheHit ? 'hit' : 'miss',
            'x-overskill-model-alias': response.modelAlias,
          })
          .send(message);
        return;
      }
      const chunks = await this.llm.stream(req.principal, request);
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      for await (const batch of chunks) {
        if (reply.raw.destroyed) break;
        reply.raw.write(batch.map((chunk) => `event: ${chunk.event}\ndata: ${chunk.data}\n\n`).join(''));
      }
      reply.raw.end();
    } catch (err) {
      if (reply.sent || reply.raw.headersSent) {
        reply.raw.end();
        return;
      }
      sendAnthropicError(reply, err);
    }
  }
}

// Errors in the Anthropic shape (the SDKs read error.type and error.message), plus our code.
function sendAnthropicError(reply: FastifyReply, err: unknown): void {
  const correlationId = requestContext.get()?.correlationId ?? '';
  const appError = err instanceof AppError ? err : new AppError(ErrorCode.INTERNAL, 'Internal error; quote the correlation id when reporting it');
  const status = errorHttpStatus[appError.code];
  const retryAfter = appError.details.retryAfterSeconds;
  if (retryAfter) void reply.header('retry-after', retryAfter);
  void reply.status(status).send({
    type: 'error',
    error: { type: ERROR_TYPE_BY_STATUS[status] ?? 'api_error', message: appError.message },
    code: appError.code,
    message: appError.message,
    correlationId,
  });
}
