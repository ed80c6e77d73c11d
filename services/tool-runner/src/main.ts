// First the compile cache, for every module after it; then tracing, before anything that loads
// pg, ioredis or an HTTP client.
import '@overskill/runtime/compile-cache';
import './instrument';
import { loadConfig } from '@overskill/observability';
import { bootstrapService, runService } from '@overskill/runtime';
import { toolRunnerEnvSchema } from './config';
import { ExecutionModule } from './execution/execution.module';
import { PreviewModule } from './preview/preview.module';

runService(() => {
  const env = loadConfig(toolRunnerEnvSchema);
  // JetStream: every execution publishes tool.executed.v1 on the EVENTS stream.
  return bootstrapService({ service: 'tool-runner', env, jetstream: true, imports: [ExecutionModule.forRoot(env), PreviewModule.forRoot(env)] });
});
