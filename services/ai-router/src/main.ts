// First the compile cache, for every module after it; then tracing, before anything that loads
// pg, ioredis or an HTTP client.
import '@overskill/runtime/compile-cache';
import './instrument';
import { loadConfig } from '@overskill/observability';
import { bootstrapService, runService } from '@overskill/runtime';
import { AiMetricsModule } from './ai-metrics';
import { CompletionModule } from './completion/completion.module';
import { aiRouterEnvSchema } from './config';
import { ImagesModule } from './images/images.module';

runService(() => {
  const env = loadConfig(aiRouterEnvSchema);
  return bootstrapService({ service: 'ai-router', env, jetstream: true, imports: [AiMetricsModule, CompletionModule.forRoot(env), ImagesModule.forRoot(env)] });
});
