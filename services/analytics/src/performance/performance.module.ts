import { Module } from '@nestjs/common';
import { PerformanceController } from './performance.controller';
import { PerformanceRepository } from './performance.repository';
import { PerformanceService } from './performance.service';

// Latency, throughput and error rates from the raw facts (the monthly performance report).
@Module({
  controllers: [PerformanceController],
  providers: [PerformanceRepository, PerformanceService],
})
export class PerformanceModule {}
