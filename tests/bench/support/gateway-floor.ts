import { Rpc } from '@overskill/contracts';
import { connectNats, encodeMessage, ERROR_CODE_HEADER } from '@overskill/messaging';
import { stackNatsCredentials, type StackNatsSeeds } from '@overskill/testing';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { spawnTracked, stopChild, waitForLine } from './child-process';
import { cpuPerUnitMs, cpuSnapshot, processCpuSeconds, stackServerPids } from './process-cpu';
import { libCallerScript, libResponderScript } from './lib-request-reply';
import { rawNatsResponderScript } from './raw-nats-responder';

// The parts the authenticated list cannot do without, each measured bare in the bench's run:
// one NATS request-reply of the list's exact sizes between two plain `nats` clients, and the
// list's SQL as a prepared statement from a plain `pg` pool. With the gateway's /health/live
// (HTTP + edge hooks), the Redis rate-limit script and autocannon's own cost per request, they
// are the floor of this architecture: CPU per request no implementation of the path goes below.

const RAW_RESPONDER = rawNatsResponderScript('bench-floor-responder');

// The orchestrator's list statement (apps.repository.ts), prepared the same way, over as many
// connections as the orchestrator's pool, in a process of its own (its CPU is the client's). Says
// its backends' pids when warm, starts on "go" from stdin, answers "calls <n>" after SECONDS.
// PostgreSQL's CPU is read from those backends alone: the postmaster's tree also holds the
// platform's pooled connections, whose exits while idle would blur a few seconds' difference.
const RAW_PG_CLIENT = `
const { Client } = require('pg');
const sql = {
  name: 'bench.apps.list',
  text: 'SELECT id, team_id, name, description, template, max_iterations, created_at, updated_at FROM "orchestrator"."apps" ' +
    "WHERE team_id = $1 AND kind = 'app' ORDER BY created_at DESC, id DESC LIMIT $2",
  values: [process.env.TEAM_ID, 21],
};
(async () => {
  const clients = await Promise.all(Array.from({ length: 10 }, async () => { const c = new Client({ connectionString: process.env.DATABASE_URL }); await c.connect(); return c; }));
  const backends = await Promise.all(clients.map(async (c) => (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid));
  const run = async (until) => { let n = 0; await Promise.all(Array.from({ length: Number(process.env.CONCURRENCY) }, async (_, i) => { while (performance.now() < until()) { await clients[i % clients.length].query(sql); n++; } })); return n; };
  let warm = 0;
  await run(() => (warm++ < 500 ? Infinity : 0));
  process.stdout.write('ready ' + backends.join(',') + '\\n');
  process.stdin.once('data', async () => {
    const end = performance.now() + Number(process.env.SECONDS) * 1000;
    const calls = await run(() => end);
    // The connections stay open until SIGTERM: their backends' CPU is read after this line.
    process.stdout.write('calls ' + calls + '\\n');
  });
})().catch((err) => { console.error(err); process.exit(1); });
`;

// The raw responder as the identity of `seed`, answering `subject` with `reply`.
function spawnRawResponder(root: string, natsUrl: string, seed: string, subject: string, reply: Uint8Array) {
  return spawnTracked(process.execPath, ['-e', RAW_RESPONDER], {
    cwd: root,
    env: { ...process.env, NATS_URL: natsUrl, NATS_NKEY_SEED: seed, SUBJECT: subject, REPLY_B64: Buffer.from(reply).toString('base64') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface FloorPart {
  calls: number;
  cpuPerCallMs: Record<string, number>;
}

// `concurrency` callers in a loop for `seconds`; CPU of the named processes per call.
async function loop(seconds: number, concurrency: number, pids: Record<string, number | undefined>, call: () => Promise<void>): Promise<FloorPart> {
  const until = performance.now() + seconds * 1000;
  let calls = 0;
  const before = cpuSnapshot(pids);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await call();
        calls++;
      }
    }),
  );
  const after = cpuSnapshot(pids);
  return { calls, cpuPerCallMs: cpuPerUnitMs(before, after, calls) };
}

export async function measureFloorParts(opts: {
  stack: { natsUrl: string; natsSeeds: StackNatsSeeds; databaseUrl: string };
  root: string;
  teamId: string;
  seconds: number;
  concurrency: number;
  // Stops the platform's orchestrator: the last two NATS parts answer the list's own subject in its place.
  stopOrchestrator: () => Promise<unknown>;
}): Promise<{ nats: FloorPart; natsRoles: FloorPart; natsLib: FloorPart; postgres: FloorPart; keyCheck: FloorPart }> {
  const { stack, root, teamId, seconds, concurrency } = opts;
  const servers = stackServerPids();
  const nc = await connectNats(stack.natsUrl, 'bench', stackNatsCredentials(stack));
  const request = encodeMessage(Rpc.appList.request, { teamId, pageSize: 0, pageToken: '' });
  // The orchestrator's real answer for the team: the raw responder sends these very bytes.
  const probe = await nc.request(Rpc.appList.subject, request, { timeout: 10_000 });
  if (probe.headers?.get(ERROR_CODE_HEADER)) throw new Error(`the list probe failed: ${probe.headers.get(ERROR_CODE_HEADER)}`);
  const subject = `bench.floor.${randomBytes(4).toString('hex')}`;
  const responder = spawnRawResponder(root, stack.natsUrl, stack.natsSeeds['test-harness'], subject, probe.data);
  const pgClient = spawnTracked(process.execPath, ['-e', RAW_PG_CLIENT], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: stack.databaseUrl, TEAM_ID: teamId, CONCURRENCY: String(concurrency), SECONDS: String(seconds) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  try {
    await waitForLine(responder, (line) => line === 'ready', 30_000, 'the floor responder');
    const nats = await loop(seconds, concurrency, { nats: servers['nats'], responder: responder.pid }, async () => {
      await nc.request(subject, request, { timeout: 10_000 });
    });
    const ready = await waitForLine(pgClient, (line) => line.startsWith('ready '), 30_000, 'the floor pg client');
    const backends = ready.slice('ready '.length).split(',').map(Number);
    const pgCpu = () => ({ postgres: backends.reduce((sum, pid) => sum + processCpuSeconds(pid), 0), client: processCpuSeconds(pgClient.pid) });
    const before = pgCpu();
    pgClient.stdin!.write('go\n');
    const calls = Number((await waitForLine(pgClient, (line) => line.startsWith('calls '), (seconds + 30) * 1000, 'the floor pg client')).split(' ')[1]);
    const postgres = { calls, cpuPerCallMs: cpuPerUnitMs(before, pgCpu(), calls) };
    await opts.stopOrchestrator();
    const natsRoles = await measureRawWithRoles({ stack, root, seconds, concurrency, request, reply: probe.data });
    const natsLib = await measureLibRequestReply({ stack, root, teamId, seconds, concurrency, reply: probe.data });
    return { nats, natsRoles, natsLib, postgres, keyCheck: measureKeyCheck(seconds) };
  } finally {
    await stopChild(pgClient);
    await nc.drain();
    await stopChild(responder);
  }
}

// The raw request-reply again, as the path's identities: the gateway's connection (its inbox prefix,
// its publish permissions) asks on the list's own subject, the orchestrator's (its subscribe
// permissions, allow_responses) answers. Against the test identity's series: what the bus'
// permissions cost per request.
async function measureRawWithRoles(opts: {
  stack: { natsUrl: string; natsSeeds: StackNatsSeeds };
  root: string;
  seconds: number;
  concurrency: number;
  request: Uint8Array;
  reply: Uint8Array;
}): Promise<FloorPart> {
  const { stack, root, seconds, concurrency, request, reply } = opts;
  const responder = spawnRawResponder(root, stack.natsUrl, stack.natsSeeds['orchestrator'], Rpc.appList.subject, reply);
  const nc = await connectNats(stack.natsUrl, 'bench-as-gateway', { role: 'gateway', nkeySeed: stack.natsSeeds['gateway'] });
  try {
    await waitForLine(responder, (line) => line === 'ready', 30_000, 'the floor responder (orchestrator identity)');
    return await loop(seconds, concurrency, { nats: stackServerPids()['nats'], responder: responder.pid }, async () => {
      await nc.request(Rpc.appList.subject, request, { timeout: 10_000 });
    });
  } finally {
    await nc.drain();
    await stopChild(responder);
  }
}

// The same request-reply with what the product keeps on it (lib-request-reply.ts): Nest's dispatch
// and the lib's server, protobuf both ways, the headers, the spans as configured, the path's
// identities. Its CPU is both processes' and nats-server's, per call.
async function measureLibRequestReply(opts: {
  stack: { natsUrl: string; natsSeeds: StackNatsSeeds };
  root: string;
  teamId: string;
  seconds: number;
  concurrency: number;
  reply: Uint8Array;
}): Promise<FloorPart> {
  const { stack, root, teamId, seconds, concurrency, reply } = opts;
  const env = { ...process.env, NATS_URL: stack.natsUrl };
  const server = spawnTracked(process.execPath, ['-e', libResponderScript()], {
    cwd: root,
    env: { ...env, NATS_NKEY_SEED: stack.natsSeeds['orchestrator'], REPLY_B64: Buffer.from(reply).toString('base64') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let caller: ReturnType<typeof spawnTracked> | undefined;
  try {
    await waitForLine(server, (line) => line === 'ready', 30_000, 'the floor lib server');
    caller = spawnTracked(process.execPath, ['-e', libCallerScript()], {
      cwd: root,
      env: { ...env, NATS_NKEY_SEED: stack.natsSeeds['gateway'], TEAM_ID: teamId, CONCURRENCY: String(concurrency), SECONDS: String(seconds) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    await waitForLine(caller, (line) => line === 'ready', 60_000, 'the floor lib caller');
    const pids = { nats: stackServerPids()['nats'], server: server.pid, caller: caller.pid };
    const before = cpuSnapshot(pids);
    caller.stdin!.write('go\n');
    const calls = Number((await waitForLine(caller, (line) => line.startsWith('calls '), (seconds + 30) * 1000, 'the floor lib caller')).split(' ')[1]);
    const after = cpuSnapshot(pids);
    // cpuSnapshot also counts this process (idle meanwhile): not part of the request-reply.
    const cpu = cpuPerUnitMs(before, after, calls);
    delete cpu['bench'];
    cpu['total'] = Object.entries(cpu).reduce((sum, [k, v]) => (k === 'total' ? sum : sum + v), 0);
    return { calls, cpuPerCallMs: roundAll(cpu) };
  } finally {
    if (caller) await stopChild(caller);
    await stopChild(server);
  }
}

// The key's verification on every request, as the gateway does it (hashKey + safeEqualHex in
// keys/api-keys.service.ts, after its format check): SHA-256 of the presented key, compared in constant time with the
// row's hash. Measured in this process, in a tight loop.
function measureKeyCheck(seconds: number): FloorPart {
  const key = `osk_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`;
  const format = /^osk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
  const stored = Buffer.from(createHash('sha256').update(key).digest('hex'), 'hex');
  const until = performance.now() + Math.min(seconds, 2) * 1000;
  const before = process.cpuUsage();
  let calls = 0;
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++) {
      if (!format.exec(key)) throw new Error('the key format check failed');
      const presented = Buffer.from(createHash('sha256').update(key).digest('hex'), 'hex');
      if (presented.length !== stored.length || !timingSafeEqual(presented, stored)) throw new Error('the key check failed');
    }
    calls += 1000;
  }
  const used = process.cpuUsage(before);
  const ms = Math.round(((used.user + used.system) / 1000 / calls) * 10_000) / 10_000;
  return { calls, cpuPerCallMs: { bench: ms, total: ms } };
}

function roundAll(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
}
