import { AnthropicFake, GitHubFake, launchPlatform, runAllMigrations, type RunningPlatform, type StackNatsSeeds } from '@overskill/testing';
import type { ServiceName } from '@overskill/contracts';
import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createTeamKey } from './cli';
import { integrationStack, REPO_ROOT, scratchDir } from './integration-env';

// A platform for the gateway suites: its own Redis database (rate-limit counters and caches do
// not leak between suites), the Anthropic fake for runs, the GitHub fake for projects (nothing
// leaves the machine), and a contract checker built from the gateway's own OpenAPI document.

export interface GatewayHarness {
  platform: RunningPlatform;
  gateway: string;
  anthropic: AnthropicFake;
  github: GitHubFake;
  // The secret GitHub webhooks of this platform are signed with.
  webhookSecret: string;
  natsUrl: string;
  natsSeeds: StackNatsSeeds;
  databaseUrl: string;
  redisUrl: string;
  dir: string;
  api(path: string, init?: ApiInit): Promise<ApiResponse>;
  key(team: string, role?: string): { key: string; teamId: string };
  contract: ContractChecker;
  stop(): Promise<void>;
}

export interface ApiInit {
  method?: string;
  key?: string | null;
  body?: unknown;
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  base?: string;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

export async function startGatewayHarness(opts: {
  name: string;
  redisDb: number;
  services?: ServiceName[];
  env?: Record<string, string>;
}): Promise<GatewayHarness> {
  const stack = integrationStack();
  const dir = scratchDir(stack.dataDir, opts.name);
  const anthropic = new AnthropicFake({ apiKey: 'test-key' });
  const anthropicUrl = await anthropic.start();
  const github = new GitHubFake();
  const githubUrl = await github.start();
  const webhookSecret = randomBytes(16).toString('hex');
  runAllMigrations(REPO_ROOT, stack.databaseUrl);
  const redisUrl = `${stack.redisUrl.replace(/\/\d*$/, '')}/${opts.redisDb}`;
  const platform = await launchPlatform({
    root: REPO_ROOT,
    ...stack,
    redisUrl,
    workspacesDir: join(dir, 'workspaces'),
    backupDir: join(dir, 'backups'),
    logDir: join(dir, 'logs'),
    services: opts.services ?? ['gateway', 'orchestrator', 'ai-router', 'tool-runner', 'git-service', 'analytics'],
    env: {
      ANTHROPIC_API_KEY: 'test-key',
      ANTHROPIC_BASE_URL: anthropicUrl,
      GITHUB_API_URL: githubUrl,
      PROJECT_SECRET_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      GITHUB_WEBHOOK_SECRET: webhookSecret,
      LOG_LEVEL: 'warn',
      ...opts.env,
    },
  });
  const gateway = platform.urls.gateway!;
  const contract = await loadContract(gateway);
  const keys = new Map<string, { key: string; teamId: string }>();
  let defaultKey: string | null = null;
  const harness: GatewayHarness = {
    platform,
    gateway,
    anthropic,
    github,
    webhookSecret,
    natsUrl: stack.natsUrl,
    natsSeeds: stack.natsSeeds,
    databaseUrl: stack.databaseUrl,
    redisUrl,
    dir,
    contract,
    key(team, role = 'owner') {
      const id = `${team}/${role}`;
      if (!keys.has(id)) keys.set(id, createTeamKey(stack, team, role));
      const k = keys.get(id)!;
      defaultKey ??= k.key;
      return k;
    },
    async api(path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      const key = init.key === undefined ? defaultKey : init.key;
      if (key) headers['x-api-key'] = key;
      let body: string | Buffer | undefined;
      if (init.rawBody !== undefined) body = init.rawBody;
      else if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${init.base ?? gateway}${path}`, { method: init.method ?? 'GET', headers, body });
      const text = await res.text();
      let parsed: unknown = undefined;
      if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    async stop() {
      await platform.stop();
      await anthropic.stop();
      await github.stop();
    },
  };
  return harness;
}

// Another gateway replica on the harness' NATS, PostgreSQL and Redis (stop it before the harness).
export function launchGatewayReplica(h: GatewayHarness, name: string, env: Record<string, string> = {}): Promise<RunningPlatform> {
  return launchPlatform({
    root: REPO_ROOT,
    natsUrl: h.natsUrl,
    natsSeeds: h.natsSeeds,
    databaseUrl: h.databaseUrl,
    redisUrl: h.redisUrl,
    workspacesDir: join(h.dir, `workspaces-${name}`),
    backupDir: join(h.dir, `backups-${name}`),
    logDir: join(h.dir, `logs-${name}`),
    services: ['gateway'],
    env: { LOG_LEVEL: 'warn', ...env },
  });
}

// ---- contract: real responses against the served OpenAPI document

export interface ContractChecker {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  document: any;
  // Problems with this response, [] when it matches its operation's documented response.
  check(method: string, path: string, res: ApiResponse): string[];
  operations(): Array<{ method: string; template: string; operation: Record<string, unknown> }>;
}

export async function loadContract(gateway: string): Promise<ContractChecker> {
  const res = await fetch(`${gateway}/api/documentation/json`);
  if (res.status !== 200) throw new Error(`no OpenAPI document at ${gateway}/api/documentation/json (${res.status})`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const document: any = await res.json();
  const ajv = new Ajv2019({ strict: false, allErrors: false });
  addFormats(ajv);
  ajv.addSchema({ $id: 'doc', components: document.components }, 'doc');
  const ops: Array<{ method: string; template: string; regex: RegExp; operation: Record<string, unknown> }> = [];
  for (const [template, item] of Object.entries<Record<string, Record<string, unknown>>>(document.paths)) {
    const regex = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]*')}$`);
    for (const [method, operation] of Object.entries(item)) ops.push({ method: method.toUpperCase(), template, regex, operation });
  }
  // Literal segments win over parameters (/api/apps/x/files/content is not /api/apps/{appId}).
  ops.sort((a, b) => b.template.replace(/\{[^}]+\}/g, '').length - a.template.replace(/\{[^}]+\}/g, '').length);
  const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
  const fix = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"doc#/components/'));
  return {
    document,
    operations: () => ops.map(({ method, template, operation }) => ({ method, template, operation })),
    check(method, path, res) {
      const pathOnly = path.split('?')[0]!;
      const op = ops.find((o) => o.method === method.toUpperCase() && o.regex.test(pathOnly));
      if (!op) return res.status === 404 && res.body?.code === 'ROUTE_NOT_FOUND' ? [] : [`${method} ${pathOnly}: no documented operation`];
      const responses = op.operation.responses as Record<string, { content?: Record<string, { schema: unknown }> }>;
      const documented = responses[String(res.status)];
      if (!documented) return [`${method} ${op.template}: status ${res.status} is not documented (${res.text.slice(0, 200)})`];
      // A documented event stream (the Anthropic endpoint with stream: true) has no JSON schema.
      if (documented.content?.['text/event-stream'] && /^text\/event-stream/.test(res.headers.get('content-type') ?? '')) return [];
      const json = documented.content?.['application/json'];
      if (!json) return [];
      const id = `${method} ${op.template} ${res.status}`;
      if (!compiled.has(id)) compiled.set(id, ajv.compile(fix(json.schema) as object));
      const validate = compiled.get(id)!;
      if (res.body === undefined) return [`${id}: expected a JSON body, got ${res.headers.get('content-type')}: ${res.text.slice(0, 200)}`];
      return validate(res.body) ? [] : [`${id}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(res.body).slice(0, 300)}`];
    },
  };
}
