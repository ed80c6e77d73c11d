import { createServiceDataSource } from '@overskill/persistence';
import { BackupEntity } from './entities';
import { InitialSchema1763769600000 } from './migrations/1763769600000-initial-schema';

export function createBackupDataSource(url: string) {
  return createServiceDataSource({ url, schema: 'backup', entities: [BackupEntity], migrations: [InitialSchema1763769600000] });
}
