import { env, loadConfig } from '@overskill/observability';
import { runMigrationsMain } from '@overskill/persistence';
import { z } from 'zod';
import { createGatewayDataSource } from './persistence/data-source';

runMigrationsMain(() => createGatewayDataSource(loadConfig(z.object({ DATABASE_URL: env.databaseUrl() })).DATABASE_URL));
