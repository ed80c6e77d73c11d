import { createServiceDataSource } from '@overskill/persistence';
import { EventEntity } from './entities';
import { InitialSchema1763769600000 } from './migrations/1763769600000-initial-schema';
import { PreviewIndexes1763856000000 } from './migrations/1763856000000-preview-indexes';
import { DailyAggregates1796342400000 } from './migrations/1796342400000-daily-aggregates';

export function createAnalyticsDataSource(url: string) {
  return createServiceDataSource({
    url,
    schema: 'analytics',
    entities: [EventEntity],
    migrations: [InitialSchema1763769600000, PreviewIndexes1763856000000, DailyAggregates1796342400000],
  });
}
