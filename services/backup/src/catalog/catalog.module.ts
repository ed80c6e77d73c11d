import { Module, type DynamicModule } from '@nestjs/common';
import { PostgresModule, RedisModule } from '@overskill/persistence';
import { ArchiveFileRepository } from '../archive/archive-file.repository';
import { BackupCreateService } from '../archive/backup-create.service';
import { BACKUP_ENV, type BackupEnv } from '../config';
import { ConfigurationFilesRepository } from '../configuration/configuration-files.repository';
import { DatabaseDumpRepository } from '../database/database-dump.repository';
import { BackupDrillService } from '../drill/backup-drill.service';
import { BackupMetrics } from '../metrics/backup-metrics';
import { createBackupDataSource } from '../persistence/data-source';
import { DatabaseMaintenanceController } from '../maintenance/database-maintenance.controller';
import { DatabaseMaintenanceRepository } from '../maintenance/database-maintenance.repository';
import { DatabaseMaintenanceService } from '../maintenance/database-maintenance.service';
import { BaseBackupRepository } from '../pitr/base-backup.repository';
import { PointInTimeService } from '../pitr/point-in-time.service';
import { ReplayClusterRepository } from '../pitr/replay-cluster.repository';
import { ProgressPublisher } from '../progress/progress.publisher';
import { RedisStateRepository } from '../redis-state/redis-state.repository';
import { RepositoryBundleRepository } from '../repositories/repository-bundle.repository';
import { BackupRestoreService } from '../restore/backup-restore.service';
import { NpmAuditRepository } from '../security/npm-audit.repository';
import { PlatformRecordsRepository } from '../security/platform-records.repository';
import { SecurityAuditController } from '../security/security-audit.controller';
import { SecurityAuditService } from '../security/security-audit.service';
import { SecurityBaselineRepository } from '../security/security-baseline.repository';
import { SecurityEventsRepository } from '../security/security-events.repository';
import { SecurityFilesRepository } from '../security/security-files.repository';
import { SecurityMetrics } from '../security/security-metrics';
import { BackupPruneService } from '../retention/backup-prune.service';
import { BackupSchedulerService } from '../schedule/backup-scheduler.service';
import { BackupVerifyService } from '../verify/backup-verify.service';
import { WalArchiveRepository } from '../wal/wal-archive.repository';
import { BackupCatalogController } from './backup-catalog.controller';
import { BackupCatalogRepository } from './backup-catalog.repository';
import { BackupCatalogService } from './backup-catalog.service';
import { BackupStartupService } from './backup-startup.service';

@Module({})
export class CatalogModule {
  static forRoot(env: BackupEnv): DynamicModule {
    return {
      module: CatalogModule,
      imports: [PostgresModule.forRoot(createBackupDataSource(env.DATABASE_URL)), RedisModule.forRoot(env.REDIS_URL)],
      controllers: [BackupCatalogController, SecurityAuditController, DatabaseMaintenanceController],
      providers: [
        { provide: BACKUP_ENV, useValue: env },
        BackupCatalogRepository,
        BackupCatalogService,
        ArchiveFileRepository,
        DatabaseDumpRepository,
        RepositoryBundleRepository,
        RedisStateRepository,
        ConfigurationFilesRepository,
        BackupMetrics,
        BaseBackupRepository,
        ReplayClusterRepository,
        WalArchiveRepository,
        PointInTimeService,
        ProgressPublisher,
        BackupCreateService,
        BackupVerifyService,
        BackupRestoreService,
        BackupDrillService,
        BackupPruneService,
        DatabaseMaintenanceRepository,
        DatabaseMaintenanceService,
        SecurityFilesRepository,
        NpmAuditRepository,
        PlatformRecordsRepository,
        SecurityBaselineRepository,
        SecurityEventsRepository,
        SecurityMetrics,
        SecurityAuditService,
        BackupSchedulerService,
        BackupStartupService,
      ],
    };
  }
}
