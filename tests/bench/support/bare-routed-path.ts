// The ceiling of the routed path at concurrency: the same shape as SDK → gateway → NATS →
// ai-router → provider, built from plain parts, each in a process of its own like the services.
// Every part does only what any path of this shape must do: one HTTP server exchange, one NATS
// request-reply carrying the router's real request and reply bytes, one admission script run
// (ai-router's own ledger, one EVALSHA) and one @anthropic-ai/sdk call on ai-router's fetch.
// Nothing is parsed, traced, limited or accounted beyond that.

// A child process's script: a bare node:http server that reads the request body, sends REQUEST_B64
// over NATS to SUBJECT (plain nats.js, the services' connection options) and answers ANSWER_JSON.
export function bareGatewayScript(): string {
  return `
const http = require('node:http');
const { connect, nkeyAuthenticator } = require('nats');
(async () => {
  const nc = await connect({
    servers: process.env.NATS_URL, name: 'bench-bare-gateway', noAsyncTraces: true,
    authenticator: nkeyAuthenticator(new TextEncoder().encode(process.env.NATS_NKEY_SEED)),
  });
  const request = Buffer.from(process.env.REQUEST_B64, 'base64');
  const answer = Buffer.from(process.env.ANSWER_JSON);
  const subject = process.env.SUBJECT;
  const server = http.createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      nc.request(subject, request, { timeout: 10000 }).then(
        (reply) =>
          reply.data.length
            ? res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length }).end(answer)
            : res.writeHead(502).end(),
        () => res.writeHead(502).end(),
      );
    });
  });
  server.keepAliveTimeout = 60000;
  server.listen(0, '127.0.0.1', () => process.stdout.write('ready ' + server.address().port + '\\n'));
  process.once('SIGTERM', () => { server.close(); nc.drain().finally(() => process.exit(0)); });
})().catch((err) => { console.error(err); process.exit(1); });
`;
}

// A child process's script: a plain nats.js responder on SUBJECT that, for every request, runs one
// admission (ai-router's UsageLedgerRepository from dist/, on REDIS_URL), makes one SDK call on
// ai-router's fetch to the fake at FAKE_URL, and replies REPLY_B64 (the router's real reply bytes).
export function bareRouterScript(): string {
  return `
const { join } = require('node:path');
const { connect, nkeyAuthenticator } = require('nats');
const Redis = require('ioredis');
const Anthropic = require('@anthropic-ai/sdk').default;
const dist = join(process.cwd(), 'dist');
const { UsageLedgerRepository } = require(join(dist, 'services/ai-router/src/limits/usage-ledger.repository.js'));
const { countingFetch } = require(join(dist, 'services/ai-router/src/providers/chat-provider.js'));
const { REDIS_CLIENT_OPTIONS } = require(join(dist, 'libs/persistence/src/index.js'));
(async () => {
  const nc = await connect({
    servers: process.env.NATS_URL, name: 'bench-bare-router', noAsyncTraces: true,
    authenticator: nkeyAuthenticator(new TextEncoder().encode(process.env.NATS_NKEY_SEED)),
  });
  const ledger = new UsageLedgerRepository(new Redis(process.env.REDIS_URL, REDIS_CLIENT_OPTIONS));
  // Retries as ai-router's default (AI_MAX_RETRIES=2): a keep-alive socket the fake just closed is retried, not failed.
  const client = new Anthropic({ apiKey: process.env.PROVIDER_KEY, baseURL: process.env.FAKE_URL, fetch: countingFetch, maxRetries: 2 });
  const reply = Buffer.from(process.env.REPLY_B64, 'base64');
  const team = process.env.TEAM;
  const limits = { requestsPerMinute: 1000000000, tokensPerMinute: 0 };
  const budget = { limitNano: 1e18, period: new Date().toISOString().slice(0, 10), ttlSeconds: 3600 };
  const params = { model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Say ok' }] };
  const handle = async (msg) => {
    const admission = {
      rate: [{ scope: 'team', id: team, ...limits }, { scope: 'key', id: team, ...limits }],
      budgets: [{ scope: 'team', id: team, ...budget }, { scope: 'key', id: team, ...budget }],
      estimatedTokens: 3, estimatedCostNano: 963000, minute: Math.floor(Date.now() / 60000),
    };
    if (!(await ledger.admit(admission)).ok) throw new Error('refused');
    await client.messages.create(params, { timeout: 120000 });
    msg.respond(reply);
  };
  nc.subscribe(process.env.SUBJECT, { queue: 'bench-bare-router', callback: (err, msg) => {
    if (!err) handle(msg).catch((e) => { process.stderr.write(String(e && e.stack || e) + '\\n'); msg.respond(new Uint8Array(0)); });
  } });
  await nc.flush();
  process.stdout.write('ready\\n');
  process.once('SIGTERM', () => { nc.drain().finally(() => process.exit(0)); });
})().catch((err) => { console.error(err); process.exit(1); });
`;
}
