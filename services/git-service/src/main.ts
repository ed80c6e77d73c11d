// First the compile cache, for every module after it; then tracing, before anything that loads
// pg, ioredis or an HTTP client.
import '@overskill/runtime/compile-cache';
import './instrument';
import { loadConfig } from '@overskill/observability';
import { bootstrapService, runService } from '@overskill/runtime';
import { gitServiceEnvSchema } from './config';
import { GitServiceModule } from './git-service.module';

runService(() => {
  const env = loadConfig(gitServiceEnvSchema);
  return bootstrapService({ service: 'git-service', env, imports: [GitServiceModule.forRoot(env)] });
});
