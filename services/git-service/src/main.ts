import { loadConfig } from '@overskill/observability';
import { bootstrapService, runService } from '@overskill/runtime';
import { gitServiceEnvSchema } from './config';
import { RepositoryModule } from './repository/repository.module';

runService(() => {
  const env = loadConfig(gitServiceEnvSchema);
  return bootstrapService({ service: 'git-service', env, imports: [RepositoryModule.forRoot(env)] });
});
