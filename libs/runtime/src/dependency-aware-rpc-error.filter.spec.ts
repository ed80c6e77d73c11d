import { ErrorCode } from '@overskill/contracts';
import pino from 'pino';
import { firstValueFrom } from 'rxjs';
import { DependencyAwareRpcErrorFilter } from './dependency-aware-rpc-error.filter';

describe('DependencyAwareRpcErrorFilter', () => {
  const filter = new DependencyAwareRpcErrorFilter(pino({ enabled: false }));
  const reply = (err: unknown) => firstValueFrom(filter.catch(err)).catch((e: unknown) => e);

  it('answers a datastore connection error as DEPENDENCY_UNAVAILABLE, without the driver text', async () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:5432'), { code: 'ECONNREFUSED' });
    const answered = await reply(Object.assign(new Error('Connection terminated unexpectedly'), { cause: err }));
    expect(answered).toMatchObject({ code: ErrorCode.DEPENDENCY_UNAVAILABLE, message: expect.stringContaining('PostgreSQL') });
    expect(JSON.stringify(answered)).not.toContain('10.0.0.7');
    expect(await reply(new Error('Command timed out'))).toMatchObject({ code: ErrorCode.DEPENDENCY_UNAVAILABLE, details: { dependency: 'redis' } });
  });

  it('still answers any other unexpected error as INTERNAL', async () => {
    expect(await reply(new TypeError('x is undefined'))).toMatchObject({ code: ErrorCode.INTERNAL });
  });
});
