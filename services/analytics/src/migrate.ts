import { runMigrationsMain } from '@overskill/persistence';
import { createAnalyticsDataSource } from './persistence/data-source';

runMigrationsMain(createAnalyticsDataSource);
