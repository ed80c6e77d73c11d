import { Module } from '@nestjs/common';
import { AiUsageController } from './ai-usage.controller';
import { AiUsageRepository } from './ai-usage.repository';
import { AiUsageService } from './ai-usage.service';

// AI usage and cost per day and app, from the usage facts; the DataSource comes from the global
// PostgresModule that EventsModule.forRoot registers.
@Module({
  controllers: [AiUsageController],
  providers: [AiUsageRepository, AiUsageService],
})
export class AiUsageModule {}
