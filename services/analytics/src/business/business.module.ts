import { Module, type DynamicModule } from '@nestjs/common';
import { AggregatesModule } from '../aggregates/aggregates.module';
import type { AnalyticsEnv } from '../config';
import { BusinessController } from './business.controller';
import { BusinessMetrics } from './business-metrics';
import { BusinessService, COST_MODEL } from './business.service';
import { loadCostModel } from './cost-model';

// The business figures of a range (routes, CLI reports) and of today (Prometheus gauges).
@Module({})
export class BusinessModule {
  static forRoot(env: AnalyticsEnv): DynamicModule {
    return {
      module: BusinessModule,
      imports: [AggregatesModule],
      controllers: [BusinessController],
      providers: [{ provide: COST_MODEL, useValue: loadCostModel(env.ANALYTICS_COST_MODEL_FILE) }, BusinessService, BusinessMetrics],
    };
  }
}
