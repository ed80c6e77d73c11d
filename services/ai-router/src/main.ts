import { loadConfig } from '@overskill/observability';
import { bootstrapService, runService } from '@overskill/runtime';
import { CompletionModule } from './completion/completion.module';
import { aiRouterEnvSchema } from './config';

runService(() => {
  const env = loadConfig(aiRouterEnvSchema);
  return bootstrapService({ service: 'ai-router', env, imports: [CompletionModule.forRoot(env)] });
});
