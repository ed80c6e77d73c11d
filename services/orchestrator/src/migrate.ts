import { runMigrationsMain } from '@overskill/persistence';
import { createOrchestratorDataSource } from './persistence/data-source';

runMigrationsMain(createOrchestratorDataSource);
