import { env } from '@overskill/observability';
import { serviceEnvSchema } from '@overskill/runtime';

export const gitServiceEnvSchema = serviceEnvSchema(3004).extend({
  WORKSPACES_DIR: env.directory(),
});
export type GitServiceEnv = ReturnType<typeof gitServiceEnvSchema.parse>;
export const GIT_SERVICE_ENV = Symbol('GIT_SERVICE_ENV');
