import { AppError, ErrorCode } from '@overskill/contracts';
import type { DataSource } from 'typeorm';
import { createServiceDataSource } from './create-data-source';
import { asDatastoreError } from './datastore-error';
import { asDependencyError } from './dependency-error';
import { asUnstorableTextError } from './unstorable-text-error';

// What the real server and driver say about a NUL byte in a bound text value, and its mapping.
describe('asUnstorableTextError against PostgreSQL', () => {
  const url = process.env.OVERSKILL_TEST_DATABASE_URL;
  if (!url) throw new Error('integration stack not running');
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await createServiceDataSource({ url, schema: 'public', entities: [], migrations: [] }).initialize();
  });
  afterAll(() => dataSource?.destroy());

  it('answers a NUL byte in a parameter as VALIDATION_FAILED, and the connection keeps serving', async () => {
    const err = await dataSource.query('SELECT $1::text AS slug', ['team\u0000x']).catch((e: unknown) => e);
    expect(asDependencyError(err)).toBeUndefined();
    const mapped = asUnstorableTextError(err);
    expect(mapped).toBeInstanceOf(AppError);
    expect(mapped?.code).toBe(ErrorCode.VALIDATION_FAILED);
    expect(mapped?.message).toMatch(/NUL byte/);
    // What every transport's mapper calls.
    expect(asDatastoreError(err)).toMatchObject({ code: ErrorCode.VALIDATION_FAILED, message: mapped?.message });
    await expect(dataSource.query('SELECT $1::text AS slug', ['team'])).resolves.toEqual([{ slug: 'team' }]);
  });

  it('leaves other query failures and application errors alone', async () => {
    const syntax = await dataSource.query('SELECT FROM WHERE').catch((e: unknown) => e);
    expect(asUnstorableTextError(syntax)).toBeUndefined();
    expect(asUnstorableTextError(new AppError(ErrorCode.TEAM_NOT_FOUND, 'x'))).toBeUndefined();
    expect(asUnstorableTextError(new Error('invalid byte sequence'))).toBeUndefined();
  });
});
