// First the compile cache, for every module after it; then tracing, before anything that loads
// pg, ioredis or an HTTP client.
import '@overskill/runtime/compile-cache';
import './instrument';
import { loadConfig } from '@overskill/observability';
import { bootstrapService, runService } from '@overskill/runtime';
import { orchestratorEnvSchema } from './config';
import { OrchestratorModule } from './orchestrator.module';

runService(() => {
  const env = loadConfig(orchestratorEnvSchema);
  return bootstrapService({ service: 'orchestrator', env, jetstream: true, imports: [OrchestratorModule.forRoot(env)] });
});
