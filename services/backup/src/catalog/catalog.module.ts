import { Module, type DynamicModule } from '@nestjs/common';
import { PostgresModule, RedisModule } from '@overskill/persistence';
import type { BackupEnv } from '../config';
import { createBackupDataSource } from '../persistence/data-source';
import { BackupCatalogController } from './backup-catalog.controller';
import { BackupCatalogRepository } from './backup-catalog.repository';
import { BackupCatalogService } from './backup-catalog.service';

@Module({})
export class CatalogModule {
  static forRoot(env: BackupEnv): DynamicModule {
    return {
      module: CatalogModule,
      imports: [PostgresModule.forRoot(createBackupDataSource(env.DATABASE_URL)), RedisModule.forRoot(env.REDIS_URL)],
      controllers: [BackupCatalogController],
      providers: [BackupCatalogRepository, BackupCatalogService],
    };
  }
}
