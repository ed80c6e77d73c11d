import { env, loadConfig } from '@overskill/observability';
import { runMigrationsMain } from '@overskill/persistence';
import { z } from 'zod';
import { createBackupDataSource } from './persistence/data-source';

runMigrationsMain(() => createBackupDataSource(loadConfig(z.object({ DATABASE_URL: env.databaseUrl() })).DATABASE_URL));
