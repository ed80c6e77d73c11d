import { Module } from '@nestjs/common';
import { AggregatesController } from './aggregates.controller';
import { AggregatesRepository } from './aggregates.repository';
import { AggregatesService } from './aggregates.service';
import { EventsConsumerRepository } from './events-consumer.repository';

// The daily aggregates' rebuild and the ingest probe; the DataSource comes from the global
// PostgresModule that EventsModule.forRoot registers (the ingest adds to the aggregates).
@Module({
  controllers: [AggregatesController],
  providers: [AggregatesRepository, AggregatesService, EventsConsumerRepository],
  exports: [AggregatesRepository],
})
export class AggregatesModule {}
