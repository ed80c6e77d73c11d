import { z } from 'zod';
import { stripUrlCredentials } from '../redaction/strip-url-credentials';
import { ConfigError } from './config-error';

// Values of these variables are never echoed back in an error message.
const SECRET_NAME = /KEY|SECRET|TOKEN|PASSWORD|PASS|CREDENTIAL/i;
const MAX_ECHOED_CHARS = 80;

/** Validates the environment once at start; throws ConfigError naming every missing or bad variable. */
export function loadConfig<S extends z.ZodTypeAny>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;

  const problems = new Map<string, string>();
  for (const issue of result.error.issues) {
    const name = issue.path.length > 0 ? String(issue.path[0]) : '(environment)';
    if (!problems.has(name)) problems.set(name, describeIssue(name, issue, env[name]));
  }
  throw new ConfigError([...problems.keys()], [...problems.values()]);
}

function describeIssue(name: string, issue: z.ZodIssue, raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') return `${name} is required`;
  return `${name} ${issue.message}${echoValue(name, raw)}`;
}

function echoValue(name: string, raw: string): string {
  if (SECRET_NAME.test(name)) return '';
  const clean = stripUrlCredentials(raw);
  const shown = clean.length > MAX_ECHOED_CHARS ? `${clean.slice(0, MAX_ECHOED_CHARS)}…` : clean;
  return ` (got ${JSON.stringify(shown)})`;
}
