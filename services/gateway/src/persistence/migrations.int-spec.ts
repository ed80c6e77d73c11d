import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const pg = require('pg') as {
  Client: new (c: { connectionString: string }) => {
    connect(): Promise<void>;
    query(q: string, v?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
    end(): Promise<void>;
  };
};

// The identity-and-audit migration goes down and up again cleanly on the real database (the
// built migrate.js, as operators run it), and the append-only trigger comes back with it.
jest.setTimeout(60_000);

describe('gateway migrations', () => {
  const url = process.env.OVERSKILL_TEST_DATABASE_URL;
  if (!url) throw new Error('integration stack not running');
  const migrate = join(resolve(__dirname, '../../../..'), 'dist/services/gateway/src/migrate.js');
  const run = (direction: 'up' | 'down') => {
    const result = spawnSync(process.execPath, [migrate, direction], { env: { ...process.env, DATABASE_URL: url }, encoding: 'utf8' });
    expect({ direction, status: result.status, stderr: result.stderr }).toEqual({ direction, status: 0, stderr: '' });
  };
  const tables = async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'gateway' ORDER BY 1`)).rows.map((r) => r.table_name);
    } finally {
      await client.end();
    }
  };

  it('reverts and reapplies the identity and audit schema', async () => {
    expect(existsSync(migrate)).toBe(true);
    run('up');
    expect(await tables()).toEqual(expect.arrayContaining(['api_keys', 'audit_log', 'teams', 'users']));
    run('down');
    expect(await tables()).not.toContain('audit_log');
    expect(await tables()).not.toContain('users');
    run('up');
    expect(await tables()).toEqual(expect.arrayContaining(['api_keys', 'audit_log', 'teams', 'users']));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`INSERT INTO gateway.audit_log (id, action, result, status) VALUES (gen_random_uuid(), 'test', 'ok', 200)`);
      await expect(client.query(`DELETE FROM gateway.audit_log`)).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
    }
  });
});
