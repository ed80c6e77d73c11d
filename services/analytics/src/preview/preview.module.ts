import { Module } from '@nestjs/common';
import { PreviewController } from './preview.controller';
import { PreviewRepository } from './preview.repository';
import { PreviewService } from './preview.service';

// Reads of the app preview's telemetry; the DataSource comes from the global PostgresModule
// that EventsModule.forRoot registers.
@Module({
  controllers: [PreviewController],
  providers: [PreviewRepository, PreviewService],
})
export class PreviewModule {}
