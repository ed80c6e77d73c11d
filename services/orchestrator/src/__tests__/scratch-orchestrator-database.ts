import { createScratchDatabase } from '@overskill/testing';
import type { DataSource } from 'typeorm';
import { createOrchestratorDataSource } from '../persistence/data-source';

export interface ScratchOrchestratorDatabase {
  ds: DataSource;
  url: string;
  close(): Promise<void>;
}

// A database of the spec's own on the integration stack's PostgreSQL, migrated as a deployment
// is (the schema is the migrate entry point's to create, as for every service).
export async function openScratchOrchestratorDatabase(name: string): Promise<ScratchOrchestratorDatabase> {
  const stackUrl = process.env.OVERSKILL_TEST_DATABASE_URL;
  if (!stackUrl) throw new Error('integration stack not running');
  const db = await createScratchDatabase(stackUrl, name);
  const ds = createOrchestratorDataSource(db.url);
  await ds.initialize();
  await ds.query('CREATE SCHEMA IF NOT EXISTS orchestrator');
  await ds.runMigrations();
  return {
    ds,
    url: db.url,
    async close() {
      await ds.destroy();
      await db.drop();
    },
  };
}
