// First the compile cache, for every module after it; then tracing, before anything that loads
// pg, ioredis or an HTTP client.
import '@overskill/runtime/compile-cache';
import './instrument';
import { loadConfig } from '@overskill/observability';
import { bootstrapService, runService } from '@overskill/runtime';
import { CatalogModule } from './catalog/catalog.module';
import { backupEnvSchema } from './config';

runService(() => {
  const env = loadConfig(backupEnvSchema);
  return bootstrapService({ service: 'backup', env, imports: [CatalogModule.forRoot(env)] });
});
