import { Module, type DynamicModule } from '@nestjs/common';
import { PostgresModule } from '@overskill/persistence';
import type { AnalyticsEnv } from '../config';
import { createAnalyticsDataSource } from '../persistence/data-source';
import { EventsController } from './events.controller';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';
import { EventsIngestService } from './events-ingest.service';
import { EventsIngestWorker } from './events-ingest.worker';

@Module({})
export class EventsModule {
  static forRoot(env: AnalyticsEnv): DynamicModule {
    return {
      module: EventsModule,
      imports: [PostgresModule.forRoot(createAnalyticsDataSource(env.DATABASE_URL))],
      controllers: [EventsController],
      providers: [EventsRepository, EventsService, EventsIngestService, EventsIngestWorker],
    };
  }
}
