import { loadConfig } from '@overskill/observability';
import { bootstrapService, runService } from '@overskill/runtime';
import { toolRunnerEnvSchema } from './config';
import { ExecutionModule } from './execution/execution.module';

runService(() => {
  const env = loadConfig(toolRunnerEnvSchema);
  return bootstrapService({ service: 'tool-runner', env, imports: [ExecutionModule.forRoot(env)] });
});
