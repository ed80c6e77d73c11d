import { env, loadConfig } from '@overskill/observability';
import { runMigrationsMain } from '@overskill/persistence';
import { z } from 'zod';
import { createAnalyticsDataSource } from './persistence/data-source';

runMigrationsMain(() => createAnalyticsDataSource(loadConfig(z.object({ DATABASE_URL: env.databaseUrl() })).DATABASE_URL));
