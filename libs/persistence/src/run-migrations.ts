import { env, loadConfig } from '@overskill/observability';
import { z } from 'zod';
import type { DataSource } from 'typeorm';

// `node migrate.js up|down` for one service: creates its schema first (TypeORM puts its
// migrations table there), then applies or reverts.
export async function runMigrationsCommand(dataSource: DataSource, direction: string | undefined): Promise<void> {
  const schema = (dataSource.options as { schema?: string }).schema;
  if (direction !== undefined && direction !== 'up' && direction !== 'down') {
    throw new Error(`unknown direction "${direction}": use up or down`);
  }
  await dataSource.initialize();
  try {
    if (schema) await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    if (direction === 'down') {
      await dataSource.undoLastMigration({ transaction: 'each' });
      process.stdout.write(`${schema}: reverted the last migration\n`);
    } else {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      process.stdout.write(`${schema}: ${applied.length} migration(s) applied${applied.map((m) => `\n  ${m.name}`).join('')}\n`);
    }
  } finally {
    await dataSource.destroy();
  }
}

// A service's migrate.js: reads DATABASE_URL, then `up` (default) or `down` from argv. Config
// errors and migration errors alike end as one line on stderr and exit 1.
export function runMigrationsMain(createDataSource: (databaseUrl: string) => DataSource): void {
  Promise.resolve()
    .then(() => loadConfig(z.object({ DATABASE_URL: env.databaseUrl() })))
    .then(({ DATABASE_URL }) => {
      // A migration may rewrite a big table: no query deadline here.
      process.env.DATABASE_QUERY_TIMEOUT_MS = '0';
      return runMigrationsCommand(createDataSource(DATABASE_URL), process.argv[2]);
    })
    .catch((err: Error) => {
      process.stderr.write(`migration failed: ${err.message}\n`);
      process.exit(1);
    });
}
