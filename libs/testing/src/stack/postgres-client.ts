// `pg` ships no type declarations and @types/pg is not installed: the little used here is
// typed by hand.
export interface PostgresClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  // A named statement: parsed and planned once per connection.
  query(statement: { name: string; text: string }, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
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
