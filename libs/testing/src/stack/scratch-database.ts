import { randomUUID } from 'node:crypto';
import { withPostgresClient } from './postgres-client';

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

// A database of its own on the test stack's PostgreSQL server, for a suite whose rows must not
// meet another suite's (a claim across all rows, a sweep): created empty, removed by `drop`.
export async function createScratchDatabase(serverUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomUUID().slice(0, 8)}`;
  await withPostgresClient(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  return {
    url: serverUrl.replace(/\/[^/?]*(\?|$)/, `/${name}$1`),
    drop: async () => {
      await withPostgresClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name}`));
    },
  };
}
