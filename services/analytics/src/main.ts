// First the compile cache, for every module after it; then tracing, before anything that loads
// pg, ioredis or an HTTP client.
import '@overskill/runtime/compile-cache';
import './instrument';
import { loadConfig } from '@overskill/observability';
import { bootstrapService, runService } from '@overskill/runtime';
import { analyticsEnvSchema } from './config';
import { AggregatesModule } from './aggregates/aggregates.module';
import { AiUsageModule } from './ai-usage/ai-usage.module';
import { BusinessModule } from './business/business.module';
import { EventsModule } from './events/events.module';
import { PerformanceModule } from './performance/performance.module';
import { PreviewModule } from './preview/preview.module';

runService(() => {
  const env = loadConfig(analyticsEnvSchema);
  return bootstrapService({
    service: 'analytics',
    env,
    jetstream: true,
    imports: [EventsModule.forRoot(env), PreviewModule, AiUsageModule, AggregatesModule, BusinessModule.forRoot(env), PerformanceModule],
  });
});
