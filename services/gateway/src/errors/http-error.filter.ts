import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { AppError, ErrorCode, errorHttpStatus } from '@overskill/contracts';
import { requestContext } from '@overskill/observability';
import { asDatastoreError } from '@overskill/persistence';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';

export interface HttpErrorBody {
  code: ErrorCode;
  message: string;
  correlationId: string;
}

export const RETRY_AFTER_SECONDS = 2;

const STATUS_CODES: Record<number, ErrorCode> = {
  401: ErrorCode.UNAUTHENTICATED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.ROUTE_NOT_FOUND,
  408: ErrorCode.REQUEST_TIMEOUT,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  429: ErrorCode.RATE_LIMITED,
};

// The HTTP transport's one error mapper: { code, message, correlationId } with the code's
// status. Unknown errors are logged with their stack and answered as INTERNAL, nothing more.
export function toHttpError(thrown: unknown, logger: Logger): { status: number; body: HttpErrorBody } {
  const correlationId = requestContext.get()?.correlationId ?? '';
  // The gateway's own datastores down (keys, sessions, audit): 503, like any service's; text
  // they cannot store: 400.
  const exception = asDatastoreError(thrown) ?? thrown;
  if (exception instanceof AppError) {
    return { status: errorHttpStatus[exception.code], body: { code: exception.code, message: exception.message, correlationId } };
  }
  const status = httpStatusOf(exception);
  if (status !== undefined && status < 500) {
    const code = STATUS_CODES[status] ?? ErrorCode.VALIDATION_FAILED;
    const message =
      status === 404
        ? 'No such route; the API is described at /api/documentation'
        : status === 413
          ? 'The request body is too large'
          : status === 415
            ? 'Send JSON bodies with Content-Type: application/json'
            : safeMessage(exception);
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

// The audit hook reads the code the request was answered with.
export function noteErrorCode(request: unknown, code: string): void {
  if (request && typeof request === 'object') (request as { errorCode?: string }).errorCode = code;
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const { status, body } = toHttpError(exception, this.logger);
    const http = host.switchToHttp();
    noteErrorCode(http.getRequest(), body.code);
    const reply = http.getResponse<FastifyReply>();
    // A timed-out request was already answered; nothing more to send.
    if (reply.sent || reply.raw.headersSent) return;
    // A dependency outage is temporary: tell clients when to come back.
    if (status === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    void reply.status(status).send(body);
  }
}
