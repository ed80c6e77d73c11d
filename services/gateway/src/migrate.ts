import { runMigrationsMain } from '@overskill/persistence';
import { createGatewayDataSource } from './persistence/data-source';

runMigrationsMain(createGatewayDataSource);
