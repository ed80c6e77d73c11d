import { create, ScalarType, toBinary, type DescField, type DescMessage } from '@bufbuild/protobuf';
import {
  BUS_ROLE_TABLE,
  BUS_ROLES,
  commonV1,
  Events,
  ErrorCode,
  HealthPing,
  isErrorCode,
  Rpc,
  rpcsOwnedBy,
  SERVICE_NAMES,
  type BusRole,
  type EventDefinition,
  type RpcDefinition,
} from '@overskill/contracts';
import { ERROR_CODE_HEADER, NatsRpcClient, natsAuthOptions } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { AnthropicFake, launchPlatform, runAllMigrations, startStack, type RunningPlatform, type RunningStack, stackNatsCredentials } from '@overskill/testing';
import { fromBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

jest.setTimeout(600_000);

// Hostile bytes on the bus: whoever can publish on NATS can send anything. Every subject of the
// registry gets random bytes, truncated messages and messages full of hostile values; each must
// be answered (a reply of the right type or a registered error code, never a timeout), and every
// service must still be alive and serving afterwards. Every durable subject gets the same, and
// its consumer must go on consuming. Replay a failing run with FUZZ_SEED=<seed>.
const PER_SUBJECT = 12;
const HOSTILE_STRINGS = [
  '',
  ' ',
  '../../../etc/passwd',
  '\u0000',
  'a'.repeat(20_000),
  '😀\u202e',
  '%00',
  '${jndi:x}',
  '<script>',
  'refs/heads/main',
  '-rf',
  randomUUID(),
];

function hostileValue(field: DescField, rng: () => number): unknown {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(rng() * values.length)]!;
  if (field.fieldKind === 'enum') return pick([0, 1, 2, 99, -1]);
  if (field.fieldKind !== 'scalar') return undefined;
  switch (field.scalar) {
    case ScalarType.STRING:
      return pick(HOSTILE_STRINGS);
    case ScalarType.BOOL:
      return rng() < 0.5;
    case ScalarType.BYTES:
      return Uint8Array.from({ length: Math.floor(rng() * 64) }, () => Math.floor(rng() * 256));
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return pick([0n, -1n, 9_223_372_036_854_775_807n, -9_223_372_036_854_775_808n]);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return pick([0n, 1n, 18_446_744_073_709_551_615n]);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return pick([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e308]);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return pick([0, 1, 4_294_967_295]);
    default:
      return pick([0, -1, 2_147_483_647, -2_147_483_648]);
  }
}

function hostileMessage(desc: DescMessage, rng: () => number): Uint8Array {
  const init: Record<string, unknown> = {};
  for (const field of desc.fields) {
    const value = hostileValue(field, rng);
    if (value !== undefined) init[field.localName] = value;
  }
  return toBinary(desc, create(desc, init as never));
}

// Random bytes, a hostile message, the same cut short, and the empty message.
function payloads(desc: DescMessage, seed: number): Uint8Array[] {
  const rng = fc.sample(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { seed, numRuns: 1000 });
  let i = 0;
  const next = () => rng[i++ % rng.length]!;
  const random = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 512 }), { seed, numRuns: 4 });
  const out: Uint8Array[] = [...random, new Uint8Array(0)];
  while (out.length < PER_SUBJECT) {
    const message = hostileMessage(desc, next);
    out.push(message, message.subarray(0, Math.floor(next() * message.length)));
  }
  return out.slice(0, PER_SUBJECT);
}

// Its own stack: the garbage it leaves on the durable streams must not reach the other suites.
describe('hostile bytes on the bus', () => {
  let stack: RunningStack;
  const anthropic = new AnthropicFake({ apiKey: 'test-key' });
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  let platform: RunningPlatform;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  const callers = new Map<string, NatsConnection>();
  // Hostile bytes come from a legitimate caller of each subject (a role the bus lets send it):
  // the services must survive what a compromised or buggy peer can really send. Subjects no
  // role calls yet are fuzzed by the harness identity.
  const callerOf = async (sends: (role: BusRole) => boolean): Promise<NatsConnection> => {
    const role = BUS_ROLES.find(sends);
    if (!role) return nc;
    let conn = callers.get(role);
    if (!conn) {
      conn = await connect({ servers: stack.natsUrl, ...natsAuthOptions(stackNatsCredentials(stack, role)) });
      callers.set(role, conn);
    }
    return conn;
  };
  const rpcCaller = (def: RpcDefinition) => callerOf((role) => BUS_ROLE_TABLE[role].calls.includes(def));
  const eventPublisher = (def: EventDefinition) => callerOf((role) => BUS_ROLE_TABLE[role].publishes.includes(def));

  beforeAll(async () => {
    const dir = scratchDir(integrationStack().dataDir, 'bus-fuzz');
    stack = await startStack({ dataDir: join(dir, 'stack') });
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    const anthropicUrl = await anthropic.start();
    anthropic.respondWith(() => ({ content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 1, output_tokens: 1 } }));
    platform = await launchPlatform({
      root: REPO_ROOT,
      natsUrl: stack.natsUrl,
      natsSeeds: stack.natsSeeds,
      databaseUrl: stack.databaseUrl,
      redisUrl: stack.redisUrl,
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: anthropicUrl, LOG_LEVEL: 'error' },
    });
    nc = await connect({ servers: stack.natsUrl, ...natsAuthOptions(stackNatsCredentials(stack)) });
    rpc = new NatsRpcClient(nc, createServiceMetrics('bus-fuzz-test'), 10_000);
  }, 180_000);

  afterAll(async () => {
    for (const conn of callers.values()) await conn.close();
    await nc?.close();
    await platform?.stop();
    await stack?.stop();
    await anthropic.stop();
  });

  // What a reply must be: the response type, or a registered error code with an Error body.
  function problemWith(def: RpcDefinition, reply: { data: Uint8Array; headers?: { has(k: string): boolean; get(k: string): string } }): string | undefined {
    const code = reply.headers?.has(ERROR_CODE_HEADER) ? reply.headers.get(ERROR_CODE_HEADER) : undefined;
    try {
      if (code === undefined) {
        fromBinary(def.response, reply.data);
        return undefined;
      }
      if (!isErrorCode(code)) return `unregistered error code ${code}`;
      if (code === ErrorCode.INTERNAL) return `INTERNAL: ${fromBinary(commonV1.ErrorSchema, reply.data).message}`;
      fromBinary(commonV1.ErrorSchema, reply.data);
      return undefined;
    } catch (err) {
      return `unreadable reply: ${(err as Error).message}`;
    }
  }

  it('answers every request-reply subject, and every service keeps serving', async () => {
    const failures: string[] = [];
    for (const service of SERVICE_NAMES) {
      for (const def of rpcsOwnedBy(service)) {
        const batch = payloads(def.request, seed + def.subject.length);
        const caller = await rpcCaller(def);
        await Promise.all(
          batch.map(async (payload, n) => {
            try {
              const reply = await caller.request(def.subject, payload, { timeout: 15_000 });
              const problem = problemWith(def, reply);
              if (problem) failures.push(`${def.subject} #${n}: ${problem}`);
            } catch (err) {
              failures.push(`${def.subject} #${n}: no answer (${(err as Error).message})`);
            }
          }),
        );
      }
    }
    expect({ seed, failures: failures.slice(0, 30) }).toEqual({ seed, failures: [] });
    for (const service of SERVICE_NAMES) {
      expect(platform.pids()[service]).toBeDefined();
      await expect(rpc.send(HealthPing[service], {})).resolves.toBeDefined();
    }
  });

  it('drops unreadable durable messages and goes on consuming', async () => {
    const durable: EventDefinition[] = Object.values(Events);
    for (const def of durable) {
      const js = (await eventPublisher(def)).jetstream();
      for (const [n, payload] of payloads(def.message, seed + 1).entries()) {
        await js.publish(def.subject, payload, { msgID: `fuzz-${seed}-${def.subject}-${n}` });
      }
    }
    // A real fact after the garbage is still stored: analytics' consumer is not stuck.
    const teamId = randomUUID();
    const eventId = randomUUID();
    await (
      await eventPublisher(Events.toolExecuted)
    )
      .jetstream()
      .publish(
        Events.toolExecuted.subject,
        toBinary(
          Events.toolExecuted.message,
          create(Events.toolExecuted.message, { teamId, appId: randomUUID(), runId: randomUUID(), toolUseId: 't', tool: 'read_file', outcome: 'ok' }),
        ),
        { msgID: eventId },
      );
    let count = 0n;
    for (let i = 0; i < 300 && count === 0n; i++) {
      count = (await rpc.send(Rpc.analyticsEventCount, { teamId, type: Events.toolExecuted.subject })).count;
      if (count === 0n) await new Promise((r) => setTimeout(r, 100));
    }
    expect(count).toBe(1n);
    for (const service of SERVICE_NAMES) expect(platform.pids()[service]).toBeDefined();
  });
});
