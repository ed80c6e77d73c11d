import { env, loadConfig } from '@overskill/observability';
import { runMigrationsMain } from '@overskill/persistence';
import { z } from 'zod';
import { createOrchestratorDataSource } from './persistence/data-source';

runMigrationsMain(() => createOrchestratorDataSource(loadConfig(z.object({ DATABASE_URL: env.databaseUrl() })).DATABASE_URL));
