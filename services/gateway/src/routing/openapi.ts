import { z } from 'zod';
import { jsonSchemaOf, type Json } from './json-schema';
import { ErrorBody } from './schemas';
import { ROUTES, type RouteSpec } from './routes';

export { jsonSchemaOf };

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input (VALIDATION_FAILED and friends)',
  401: 'Missing, malformed, unknown, revoked or expired key (UNAUTHENTICATED)',
  403: "The key's role or scopes do not allow this (FORBIDDEN)",
  404: 'Not found, or not in your team: both are answered the same way',
  409: 'Conflict with the current state (APP_BUSY, GIT_HEAD_MOVED, GIT_WORKTREE_DIRTY, …)',
  413: 'Body or file too large',
  415: 'Bodies must be application/json',
  422: 'Valid, but GitHub refused it (GITHUB_PERMISSION_MISSING names the permission, GITHUB_AUTH_FAILED, GITHUB_REPO_NOT_FOUND)',
  423: 'The repository is locked by another operation',
  429: 'Rate limited (RATE_LIMITED); see Retry-After and RateLimit-* headers',
  502: 'An upstream answered with an error (AI_PROVIDER_ERROR, GITHUB_UNAVAILABLE)',
  501: 'Not available yet (NOT_IMPLEMENTED, SUBJECT_UNKNOWN)',
  503: 'A backing service is unavailable',
  504: 'No answer in time (REQUEST_TIMEOUT, RPC_TIMEOUT)',
};
// 501: a backing service that does not answer a subject yet (SUBJECT_UNKNOWN during a rollout).
const COMMON_ERRORS = [400, 401, 403, 429, 501, 503, 504];

function access(spec: RouteSpec): string {
  if (spec.public) return 'No key header needed.';
  if (spec.githubSignature) return 'No API key: authenticated by `X-Hub-Signature-256` (HMAC-SHA256 of the exact body with the webhook secret).';
  return `Requires role **${spec.minRole}** or above${spec.scope ? ` and, for a scoped key, scope \`${spec.scope}\`` : ''}.`;
}

function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, '{$1}');
}

function parameters(spec: RouteSpec): Json[] {
  const out: Json[] = [];
  const add = (where: 'path' | 'query' | 'header', schema: z.ZodTypeAny | undefined) => {
    if (!schema) return;
    const json = jsonSchemaOf(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, prop] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = prop as Json & { description?: string };
      // Header names are matched lowercase; documented as they are usually written.
      const shown = where === 'header' ? name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase()) : name;
      out.push({
        name: shown,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        schema: rest,
        ...(description ? { description } : {}),
      });
    }
  };
  add('path', spec.params);
  add('query', spec.query);
  add('header', spec.headers);
  if (spec.githubSignature) {
    out.push({
      name: 'X-GitHub-Event',
      in: 'header',
      required: true,
      schema: { type: 'string' },
      description: 'issues, issue_comment, pull_request_review or ping',
    });
    out.push({
      name: 'X-GitHub-Delivery',
      in: 'header',
      required: true,
      schema: { type: 'string', maxLength: 64 },
      description: 'The delivery id; a repeated id is answered without queueing again',
    });
    out.push({ name: 'X-Hub-Signature-256', in: 'header', required: true, schema: { type: 'string', pattern: '^sha256=[0-9a-f]{64}$' } });
  }
  if (spec.sse)
    out.push({
      name: 'Last-Event-ID',
      in: 'header',
      required: false,
      schema: { type: 'string', pattern: '^[0-9]{1,10}$' },
      description: 'Resume after this event id',
    });
  return out;
}

const rateHeaders = {
  'RateLimit-Limit': { schema: { type: 'integer' }, description: 'Requests allowed in the window' },
  'RateLimit-Remaining': { schema: { type: 'integer' }, description: 'Requests left in the window' },
  'RateLimit-Reset': { schema: { type: 'integer' }, description: 'Seconds until the window resets' },
};

// OpenAPI 3.1 generated from the route table and its zod schemas (the same ones that validate).
export function buildOpenApiDocument(): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const spec of Object.values(ROUTES) as RouteSpec[]) {
    const responses: Record<string, Json> = {};
    {
      const stream = { 'text/event-stream': { schema: { type: 'string' } } };
      responses[String(spec.status)] = spec.sse
        ? { description: 'An event stream', content: stream }
        : spec.binary
          ? { description: 'Success', headers: rateHeaders, content: { [spec.binary]: { schema: { type: 'string', contentMediaType: spec.binary } } } }
          : {
              description: spec.notImplemented ? 'Success (once available; 501 until then)' : 'Success',
              headers: rateHeaders,
              content: { 'application/json': { schema: jsonSchemaOf(spec.response ?? z.object({})) }, ...(spec.streamable ? stream : {}) },
            };
    }
    const errorStatuses = [...new Set([...COMMON_ERRORS, ...spec.errors, ...(spec.body ? [413, 415] : [])])].sort();
    for (const status of errorStatuses) {
      responses[String(status)] = {
        description: ERROR_DESCRIPTIONS[status] ?? 'Error',
        ...(status === 429 ? { headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait' }, ...rateHeaders } } : {}),
        content: { 'application/json': { schema: spec.errorBody ? jsonSchemaOf(spec.errorBody) : { $ref: '#/components/schemas/Error' } } },
      };
    }
    const op: Json = {
      operationId: spec.id,
      summary: spec.summary,
      description: [spec.description, access(spec), spec.notImplemented ? `Answers 501 NOT_IMPLEMENTED for now: ${spec.notImplemented}` : '']
        .filter(Boolean)
        .join('\n\n'),
      tags: [spec.tag],
      ...(spec.githubSignature ? { security: [] } : { 'x-min-role': spec.minRole, 'x-scope': spec.scope }),
      parameters: parameters(spec),
      responses,
      ...(spec.public ? { security: [] } : {}),
    };
    // Platform-wide routes: only keys of the teams in GATEWAY_OPERATOR_TEAMS.
    if (spec.operatorOnly) op['x-operator-only'] = true;
    if (spec.body) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchemaOf(spec.body, 'input') } } };
    (paths[openApiPath(spec.path)] ??= {})[spec.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'overskill API',
      version: '1.0.0',
      description:
        'The public API of the overskill gateway. Authenticate with `X-API-Key: <key>` or `Authorization: Bearer <key>`; keys are created with `npx overskill keys create`. Errors are `{ code, message, correlationId }`.',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: '/' }],
    security: [{ apiKey: [] }, { bearer: [] }, { session: [] }],
    tags: [
      { name: 'apps', description: 'Apps: git-backed workspaces the agent builds' },
      { name: 'messages', description: 'Chat messages; each starts an agent run' },
      { name: 'runs', description: 'Agent runs and their live events' },
      { name: 'files', description: "An app's files" },
      { name: 'preview', description: "An app's live preview at its own origin" },
      { name: 'versions', description: "An app's versions (commits): log, diff, restore" },
      { name: 'keys', description: 'API keys of your team' },
      { name: 'audit', description: 'The append-only audit log of your team' },
      { name: 'session', description: 'Web console sign-in: an API key exchanged for an HttpOnly session cookie' },
      { name: 'admin', description: 'Operator views' },
      { name: 'llm', description: 'The Anthropic-compatible Messages API, through the model router' },
      { name: 'projects', description: 'GitHub repositories whose labelled issues become agent tasks' },
      { name: 'tasks', description: 'Issues being worked on as agent tasks' },
      { name: 'github', description: 'Called by GitHub, not with a key' },
    ],
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        bearer: { type: 'http', scheme: 'bearer' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'osk_session',
          description: 'The web console session (POST /api/session); writes also need X-CSRF-Token',
        },
      },
      schemas: { Error: jsonSchemaOf(ErrorBody) },
    },
  };
}
