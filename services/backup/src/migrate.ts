import { runMigrationsMain } from '@overskill/persistence';
import { createBackupDataSource } from './persistence/data-source';

runMigrationsMain(createBackupDataSource);
