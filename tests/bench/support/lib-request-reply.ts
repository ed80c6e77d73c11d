// Child processes' scripts for the request-reply the product must keep, measured bare: both ends
// through the platform's own messaging (dist/libs), each process with the services' tracing started
// as the benches configure it (no exporter: root spans not recorded, ids and propagation kept).
// - the server: a Nest microservice on NatsRpcServer (the lean handler path, the global RPC error
//   filter, the caller's headers read, a span and the histogram per request), whose handler returns
//   the list's reply as a plain object that the server encodes to protobuf on every call, as the
//   orchestrator's does; it serves the orchestrator's namespace with the orchestrator's identity
//   (the platform's orchestrator is stopped first);
// - the caller: as the gateway's identity, NatsRpcClient.send() of the list inside an HTTP-request-like scope (a root span and the request
//   context with a correlation id and the tenant), CONCURRENCY in flight, decoding every reply.
//   Says "ready" when warm, starts on "go" from stdin, answers "calls <n>" after SECONDS.

export function libResponderScript(): string {
  return `
require('reflect-metadata');
const { join } = require('node:path');
const dist = join(process.cwd(), 'dist');
const obs = require(join(dist, 'libs/observability/src/index.js'));
obs.startTracing({ service: 'bench-floor-lib-server' });
const { Controller, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { MessagePattern, Payload } = require('@nestjs/microservices');
const { fromBinary } = require('@bufbuild/protobuf');
const contracts = require(join(dist, 'libs/contracts/src/index.js'));
const messaging = require(join(dist, 'libs/messaging/src/index.js'));
(async () => {
  // The reply as the orchestrator's handler returns it: plain objects, encoded on every call.
  const decoded = fromBinary(contracts.Rpc.appList.response, Buffer.from(process.env.REPLY_B64, 'base64'));
  const reply = JSON.parse(JSON.stringify(decoded, (k, v) => (k === '$typeName' ? undefined : typeof v === 'bigint' ? Number(v) : v)));
  class FloorController { list(req) { return { apps: reply.apps, nextPageToken: req.teamId ? reply.nextPageToken : '' }; } }
  const d = Object.getOwnPropertyDescriptor(FloorController.prototype, 'list');
  Reflect.decorate([MessagePattern(contracts.Rpc.appList.subject)], FloorController.prototype, 'list', d);
  Payload()(FloorController.prototype, 'list', 0);
  Controller()(FloorController);
  class FloorModule {}
  Module({ controllers: [FloorController] })(FloorModule);
  const logger = obs.createLogger({ service: 'orchestrator', level: 'warn' });
  const server = new messaging.NatsRpcServer({
    service: 'orchestrator', natsUrl: process.env.NATS_URL, credentials: { role: 'orchestrator', nkeySeed: process.env.NATS_NKEY_SEED },
    metrics: obs.createServiceMetrics('bench-floor-lib-server'), logger,
  });
  const ms = await NestFactory.createMicroservice(FloorModule, { strategy: server, logger: false });
  ms.useGlobalFilters(new messaging.RpcErrorFilter(logger));
  messaging.useLeanRpcHandlers(ms);
  await ms.listen();
  process.stdout.write('ready\\n');
  process.once('SIGTERM', () => ms.close().finally(() => process.exit(0)));
})().catch((err) => { console.error(err); process.exit(1); });
`;
}

export function libCallerScript(): string {
  return `
const { join } = require('node:path');
const { randomUUID } = require('node:crypto');
const dist = join(process.cwd(), 'dist');
const obs = require(join(dist, 'libs/observability/src/index.js'));
obs.startTracing({ service: 'bench-floor-lib-client' });
const { context, trace } = require('@opentelemetry/api');
const contracts = require(join(dist, 'libs/contracts/src/index.js'));
const messaging = require(join(dist, 'libs/messaging/src/index.js'));
(async () => {
  const nc = await messaging.connectNats(process.env.NATS_URL, 'bench-floor-lib-client', { role: 'gateway', nkeySeed: process.env.NATS_NKEY_SEED });
  const rpc = new messaging.NatsRpcClient(nc, obs.createServiceMetrics('bench-floor-lib-client'));
  const def = contracts.Rpc.appList;
  const tracer = obs.getTracer();
  const teamId = process.env.TEAM_ID;
  const request = { teamId, pageSize: 0, pageToken: '' };
  // What the gateway's HTTP layer puts around a handler: a root span and the request's ids.
  const one = () => {
    const span = tracer.startSpan('GET /api/apps', { kind: 1 });
    return obs.requestContext
      .runIn(trace.setSpan(context.active(), span), { correlationId: randomUUID(), tenantId: teamId }, () => rpc.send(def, request))
      .then((reply) => { if (reply.apps.length === 0) throw new Error('empty reply'); span.end(); });
  };
  const run = async (until) => { let n = 0; await Promise.all(Array.from({ length: Number(process.env.CONCURRENCY) }, async () => { while (performance.now() < until()) { await one(); n++; } })); return n; };
  let warm = 0;
  await run(() => (warm++ < 2000 ? Infinity : 0));
  process.stdout.write('ready\\n');
  process.stdin.once('data', async () => {
    const end = performance.now() + Number(process.env.SECONDS) * 1000;
    const calls = await run(() => end);
    process.stdout.write('calls ' + calls + '\\n');
  });
  process.once('SIGTERM', () => nc.close().finally(() => process.exit(0)));
})().catch((err) => { console.error(err); process.exit(1); });
`;
}
