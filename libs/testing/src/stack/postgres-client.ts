// `pg` ships no type declarations and @types/pg is not installed: the little used here is
// typed by hand.
export interface PostgresClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): void;
}

interface PostgresClientConfig {
  connectionString: string;
  connectionTimeoutMillis?: number;
}

const pg = require('pg') as { Client: new (config: PostgresClientConfig) => PostgresClient };

// Connects, runs `work`, and always closes the connection.
export async function withPostgresClient<T>(connectionString: string, work: (client: PostgresClient) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2_000 });
  // A server shutting down mid-query emits 'error' on the client; the failed query reports it.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

// A database of its own on the test server, for a suite whose rows must not meet another's.
export async function createScratchDatabase(serverUrl: string, prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${Math.random().toString(36).slice(2, 10)}`;
  await withPostgresClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  return {
    url: serverUrl.replace(/\/[^/?]*(\?|$)/, `/${name}$1`),
    drop: () => withPostgresClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name}`)).then(() => undefined),
  };
}
