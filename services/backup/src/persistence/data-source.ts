import { createServiceDataSource } from '@overskill/persistence';
import { BackupEntity } from './entities';
import { InitialSchema1763769600000 } from './migrations/1763769600000-initial-schema';
import { ArchivesDrillsSchedules1796371200000 } from './migrations/1796371200000-archives-drills-schedules';
import { SecurityBaseline1796457600000 } from './migrations/1796457600000-security-baseline';

export function createBackupDataSource(url: string) {
  return createServiceDataSource({
    url,
    schema: 'backup',
    entities: [BackupEntity],
    migrations: [InitialSchema1763769600000, ArchivesDrillsSchedules1796371200000, SecurityBaseline1796457600000],
  });
}
