import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { AppError, ErrorCode, errorHttpStatus } from '@overskill/contracts';
import { requestContext } from '@overskill/observability';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';

export interface HttpErrorBody {
  code: ErrorCode;
  message: string;
  correlationId: string;
}

// The HTTP transport's one error mapper: { code, message, correlationId } with the code's
// status. Unknown errors are logged with their stack and answered as INTERNAL, nothing more.
export function toHttpError(exception: unknown, logger: Logger): { status: number; body: HttpErrorBody } {
  const correlationId = requestContext.get()?.correlationId ?? '';
  if (exception instanceof AppError) {
    return { status: errorHttpStatus[exception.code], body: { code: exception.code, message: exception.message, correlationId } };
  }
  const status = httpStatusOf(exception);
  if (status !== undefined && status < 500) {
    const code = status === 404 ? ErrorCode.ROUTE_NOT_FOUND : status === 413 ? ErrorCode.PAYLOAD_TOO_LARGE : status === 401 ? ErrorCode.UNAUTHENTICATED : status === 403 ? ErrorCode.FORBIDDEN : status === 429 ? ErrorCode.RATE_LIMITED : ErrorCode.VALIDATION_FAILED;
    const message = status === 404 ? 'No such route' : status === 413 ? 'The request body is too large' : safeMessage(exception);
    return { status, body: { code, message, correlationId } };
  }
  logger.error({ err: exception }, 'unhandled error in an HTTP request');
  return { status: 500, body: { code: ErrorCode.INTERNAL, message: 'Internal error; quote the correlation id when reporting it', correlationId } };
}

function httpStatusOf(exception: unknown): number | undefined {
  if (exception instanceof HttpException) return exception.getStatus();
  const status = (exception as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : undefined;
}

// Fastify's own 4xx messages (bad JSON, wrong content type) are safe and useful; keep them short.
function safeMessage(exception: unknown): string {
  const message = exception instanceof HttpException ? exception.message : (exception as Error)?.message;
  return typeof message === 'string' && message.length < 300 ? message : 'The request is not valid';
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const { status, body } = toHttpError(exception, this.logger);
    void host.switchToHttp().getResponse<FastifyReply>().status(status).send(body);
  }
}
