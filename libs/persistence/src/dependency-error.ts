import { AppError, ErrorCode } from '@overskill/contracts';

// Socket-level failures from node: the server is not there (or went away) right now.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED']);

// SQLSTATEs that say "the server cannot serve you now", not "your query is wrong": class 08
// (connection exception), admin/crash shutdown, still starting up, out of connections.
const PG_UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

// What node-postgres and its pool say when the connection is gone or cannot be had.
const PG_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /is not queryable$/,
  // The client's own deadline: the server did not answer the query at all.
  /^Query read timeout$/,
  // The server's statement_timeout: it was too slow to answer in time.
  /^canceling statement due to statement timeout$/,
];

// TypeORM before its first successful connect (the service started while Postgres was down), and
// a transaction whose connection died under it (TypeORM released its query runner).
const TYPEORM_NOT_CONNECTED = new Set(['CannotExecuteNotConnectedError', 'ConnectionIsNotSetError', 'QueryRunnerAlreadyReleasedError']);

// ioredis: the command timed out (a paused server), the socket is down with no offline queue,
// or the retries for the command ran out; and Redis' own "not now" replies.
const REDIS_MESSAGES = [/^Command timed out/, /^Stream isn't writeable/, /^Connection is closed/, /^Reached the max retries per request/];
const REDIS_REPLY_PREFIXES = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN) /;

type Dependency = 'postgres' | 'redis' | 'network';
const NAMES: Record<Dependency, string> = {
  postgres: 'The database (PostgreSQL)',
  redis: 'The cache (Redis)',
  network: 'A datastore or service this one depends on',
};

interface DriverError {
  name?: string;
  code?: string;
  message?: string;
  driverError?: unknown;
  cause?: unknown;
  errors?: unknown[];
}

// A driver error that means a datastore is unreachable, as DEPENDENCY_UNAVAILABLE (503 with
// Retry-After at the gateway), or undefined for any other error. Every transport's error mapper
// calls this, so no call site has to catch connection errors itself. The message names the
// datastore only: a driver's text can carry host names.
export function asDependencyError(err: unknown): AppError | undefined {
  const dependency = unavailableDependency(err, 0);
  if (!dependency) return undefined;
  return new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, `${NAMES[dependency]} is unavailable right now; retry in a moment`, { dependency });
}

function unavailableDependency(err: unknown, depth: number): Dependency | undefined {
  if (!err || typeof err !== 'object' || err instanceof AppError || depth > 3) return undefined;
  const e = err as DriverError;
  const message = typeof e.message === 'string' ? e.message : '';
  if (e.name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((re) => re.test(message))) return 'redis';
  if (e.name === 'ReplyError' && REDIS_REPLY_PREFIXES.test(message)) return 'redis';
  if (TYPEORM_NOT_CONNECTED.has(e.name ?? '')) return 'postgres';
  if (typeof e.code === 'string' && (PG_UNAVAILABLE_STATES.has(e.code) || e.code.startsWith('08'))) return 'postgres';
  if (PG_MESSAGES.some((re) => re.test(message))) return 'postgres';
  for (const inner of [e.driverError, e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const found = unavailableDependency(inner, depth + 1);
    if (found) return found;
  }
  // A refused or dropped socket (the pool's connect, or any client's): the peer is not there.
  if (typeof e.code === 'string' && SOCKET_CODES.has(e.code)) return 'network';
  return undefined;
}
