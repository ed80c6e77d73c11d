import { ErrorCode } from './error-code';

// An error a user or operator can act on. Thrown in any service, carried over NATS as
// (code, message), and answered at the edge with the code's HTTP status.
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}
