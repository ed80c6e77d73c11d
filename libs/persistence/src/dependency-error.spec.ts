import { AppError, ErrorCode } from '@overskill/contracts';
import { ReplyError } from 'ioredis';
import { MaxRetriesPerRequestError } from 'ioredis/built/errors';
import { createServer, type AddressInfo } from 'node:net';
import { DatabaseError } from 'pg-protocol';
import { CannotExecuteNotConnectedError, QueryFailedError, QueryRunnerAlreadyReleasedError } from 'typeorm';
import { createServiceDataSource, databaseDeadlinesFromEnv } from './create-data-source';
import { asDependencyError } from './dependency-error';

function pgServerError(code: string, message: string): DatabaseError {
  const err = new DatabaseError(message, message.length, 'error');
  err.code = code;
  return err;
}

// A port nothing listens on: bound, then closed.
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('asDependencyError', () => {
  it('maps a refused database connection, as the pool reports it, to DEPENDENCY_UNAVAILABLE', async () => {
    const dataSource = createServiceDataSource({ url: `postgres://u:secret@127.0.0.1:${await closedPort()}/db`, schema: 'spec', entities: [], migrations: [] });
    const err = await dataSource.initialize().catch((e: unknown) => e);
    const mapped = asDependencyError(err);
    expect(mapped).toBeInstanceOf(AppError);
    expect(mapped?.code).toBe(ErrorCode.DEPENDENCY_UNAVAILABLE);
    // No driver text (hosts, ports, credentials) reaches the caller.
    expect(mapped?.message).not.toMatch(/127\.0\.0\.1|secret/);
  });

  it.each([
    ['a dropped connection', new Error('Connection terminated unexpectedly')],
    ['a pool acquire timeout', new Error('timeout exceeded when trying to connect')],
    ['a connect timeout', new Error('Connection terminated due to connection timeout')],
    ['a broken client', new Error('Client has encountered a connection error and is not queryable')],
    ['an admin shutdown (57P01)', pgServerError('57P01', 'terminating connection due to administrator command')],
    ['a server starting up (57P03)', pgServerError('57P03', 'the database system is starting up')],
    ['a connection exception (08006)', pgServerError('08006', 'connection failure')],
    ['too many connections (53300)', pgServerError('53300', 'sorry, too many clients already')],
    ['a data source never connected', new CannotExecuteNotConnectedError('default')],
    ['a transaction whose connection died', new QueryRunnerAlreadyReleasedError()],
    ['a query the server never answered (the client deadline)', new Error('Query read timeout')],
    ['a query past statement_timeout (57014)', pgServerError('57014', 'canceling statement due to statement timeout')],
  ])('maps %s from PostgreSQL', (_, err) => {
    expect(asDependencyError(err)).toMatchObject({ code: ErrorCode.DEPENDENCY_UNAVAILABLE, details: { dependency: 'postgres' } });
  });

  it('looks inside TypeORM query errors for the driver error', () => {
    const wrapped = new QueryFailedError('SELECT 1', [], new Error('Connection terminated unexpectedly'));
    expect(asDependencyError(wrapped)?.details).toEqual({ dependency: 'postgres' });
  });

  it.each([
    ['a command timeout (a paused server)', new Error('Command timed out')],
    ['a closed socket without an offline queue', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['a closed connection', new Error('Connection is closed.')],
    ['retries run out', new MaxRetriesPerRequestError(1)],
    ['a server still loading its data', new ReplyError('LOADING Redis is loading the dataset in memory')],
  ])('maps %s from Redis', (_, err) => {
    expect(asDependencyError(err)).toMatchObject({ code: ErrorCode.DEPENDENCY_UNAVAILABLE, details: { dependency: 'redis' } });
  });

  it('leaves query mistakes, Redis command errors, app errors and plain bugs alone', () => {
    expect(asDependencyError(pgServerError('23505', 'duplicate key value violates unique constraint'))).toBeUndefined();
    expect(asDependencyError(new QueryFailedError('SELECT x', [], pgServerError('42703', 'column "x" does not exist')))).toBeUndefined();
    expect(asDependencyError(new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBeUndefined();
    expect(asDependencyError(new AppError(ErrorCode.APP_NOT_FOUND, 'no such app'))).toBeUndefined();
    expect(asDependencyError(new TypeError('cannot read properties of undefined'))).toBeUndefined();
    expect(asDependencyError(undefined)).toBeUndefined();
    expect(asDependencyError('Connection terminated')).toBeUndefined();
  });

  it('does not follow a cycle of causes forever', () => {
    const a = new Error('outer') as Error & { cause?: unknown };
    a.cause = a;
    expect(asDependencyError(a)).toBeUndefined();
  });
});

describe('databaseDeadlinesFromEnv', () => {
  it('defaults to a 5 s query and 2 s acquire deadline, and reads both from the environment', () => {
    expect(databaseDeadlinesFromEnv({})).toEqual({ queryTimeoutMs: 5000, acquireTimeoutMs: 2000 });
    expect(databaseDeadlinesFromEnv({ DATABASE_QUERY_TIMEOUT_MS: '0', DATABASE_ACQUIRE_TIMEOUT_MS: '500' })).toEqual({
      queryTimeoutMs: 0,
      acquireTimeoutMs: 500,
    });
  });

  it.each([
    ['DATABASE_QUERY_TIMEOUT_MS', '5s'],
    ['DATABASE_QUERY_TIMEOUT_MS', '-1'],
    ['DATABASE_ACQUIRE_TIMEOUT_MS', '0'],
  ])('refuses %s=%s with a clear message', (name, value) => {
    expect(() => databaseDeadlinesFromEnv({ [name]: value })).toThrow(new RegExp(`${name} must be an integer of milliseconds`));
  });
});
