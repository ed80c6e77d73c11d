import { createServiceDataSource } from '@overskill/persistence';
import { EventEntity } from './entities';
import { InitialSchema1763769600000 } from './migrations/1763769600000-initial-schema';

export function createAnalyticsDataSource(url: string) {
  return createServiceDataSource({ url, schema: 'analytics', entities: [EventEntity], migrations: [InitialSchema1763769600000] });
}
