import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { AppError, ErrorCode, isErrorCode } from '@overskill/contracts';
import type { Logger } from 'pino';
import { throwError, type Observable } from 'rxjs';

// The RPC transport's one error mapper: an AppError travels as its code and message; anything
// else is logged here with its stack and leaves the service only as INTERNAL.
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown): Observable<never> {
    if (exception instanceof AppError) {
      return throwError(() => ({ code: exception.code, message: exception.message, details: exception.details }));
    }
    if (exception instanceof RpcException) {
      const error = exception.getError();
      const code = typeof error === 'object' && error && 'code' in error ? (error as { code: unknown }).code : undefined;
      if (isErrorCode(code)) return throwError(() => error);
    }
    this.logger.error({ err: exception }, 'unhandled error in an RPC handler');
    return throwError(() => ({ code: ErrorCode.INTERNAL, message: 'Internal error in the remote service' }));
  }
}
