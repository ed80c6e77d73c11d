import {
  BUS_ROLE_TABLE,
  BUS_ROLES,
  busInboxPrefix,
  Events,
  factEvents,
  HealthPing,
  Rpc,
  rpcsOwnedBy,
  Streams,
  SUBJECT_PREFIX,
  type BusRole,
  type RpcDefinition,
} from '@overskill/contracts';
import { connectNats, ensureStreams, natsAuthOptions } from '@overskill/messaging';
import { stackNatsCredentials, startStack, type RunningStack } from '@overskill/testing';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AckPolicy, connect, nkeys, nkeyAuthenticator, type NatsConnection, type NatsError } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// Every service, and the operator CLI, is one NATS identity that nats-server lets do what the
// role table says and nothing more. Against a real nats-server configured by the harness exactly
// as npm start, compose and k8s configure theirs (deploy/nats).

const payload = new TextEncoder().encode('probe');

// What the server said to a request: answered, or refused and why.
async function requestOutcome(nc: NatsConnection, subject: string): Promise<string> {
  try {
    await nc.request(subject, payload, { timeout: 3000 });
    return 'answered';
  } catch (err) {
    return (err as NatsError).code;
  }
}

// The server answers a forbidden SUB with -ERR before the PONG of the flush that follows it.
async function subscribeOutcome(nc: NatsConnection, subject: string): Promise<string> {
  let refusal: string | undefined;
  const sub = nc.subscribe(subject, { callback: (err) => (refusal ??= err?.code) });
  await nc.flush();
  sub.unsubscribe();
  return refusal ?? 'subscribed';
}

// A subject of the registry this role neither serves nor calls.
function foreignRpc(role: BusRole): RpcDefinition {
  const mine = new Set([...BUS_ROLE_TABLE[role].calls.map((def) => def.subject), ...(role === 'cli' ? [] : rpcsOwnedBy(role).map((def) => def.subject))]);
  return [Rpc.toolCallExecute, Rpc.appCreate, Rpc.apiKeyCreate, Rpc.backupArchiveRestore].find((def) => !mine.has(def.subject))!;
}

describe('every service has its own identity on the bus', () => {
  let stack: RunningStack;
  const connections: NatsConnection[] = [];
  const as = async (role: BusRole | 'test-harness'): Promise<NatsConnection> => {
    const nc = await connectNats(stack.natsUrl, `bus-identity-${role}`, stackNatsCredentials(stack, role));
    connections.push(nc);
    return nc;
  };

  beforeAll(async () => {
    // Its own nats-server: the streams and consumers made here stay out of the other suites.
    stack = await startStack({ dataDir: join(scratchDir(integrationStack().dataDir, 'bus-identity'), 'stack') });
    // Each service answers its own namespace with its own identity, like NatsRpcServer does.
    for (const role of BUS_ROLES) {
      if (role === 'cli') continue;
      const nc = await as(role);
      nc.subscribe(`${SUBJECT_PREFIX[role]}.>`, { callback: (err, msg) => err || msg.respond(new TextEncoder().encode(`${role} answers`)) });
      await nc.flush();
    }
    await ensureStreams(await as('orchestrator'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    await stack?.stop();
  });

  it('refuses a client without credentials, and one with a key it does not know', async () => {
    await expect(connect({ servers: stack.natsUrl, reconnect: false })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    const stranger = new TextDecoder().decode(nkeys.createUser().getSeed());
    await expect(
      connect({ servers: stack.natsUrl, reconnect: false, authenticator: nkeyAuthenticator(new TextEncoder().encode(stranger)) }),
    ).rejects.toMatchObject({
      code: 'AUTHORIZATION_VIOLATION',
    });
    // A known public key is not enough: the client must sign with the matching seed.
    await expect(connectNats(stack.natsUrl, 'impostor', { role: 'gateway', nkeySeed: stranger })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
  });

  it.each(BUS_ROLES)('%s: what its role allows works, anything else is refused', async (role) => {
    const nc = await as(role);
    const spec = BUS_ROLE_TABLE[role];
    for (const def of spec.calls) await expect(requestOutcome(nc, def.subject)).resolves.toBe('answered');
    await expect(requestOutcome(nc, foreignRpc(role).subject)).resolves.toBe('PERMISSIONS_VIOLATION');
    // Another role's replies and another service's requests are not for it to read.
    await expect(subscribeOutcome(nc, '_INBOX.>')).resolves.toBe('PERMISSIONS_VIOLATION');
    const other = role === 'tool-runner' ? 'gateway' : 'tool-runner';
    await expect(subscribeOutcome(nc, `${busInboxPrefix(other)}.>`)).resolves.toBe('PERMISSIONS_VIOLATION');
    await expect(subscribeOutcome(nc, `${SUBJECT_PREFIX[other]}.>`)).resolves.toBe('PERMISSIONS_VIOLATION');
    await expect(subscribeOutcome(nc, '>')).resolves.toBe('PERMISSIONS_VIOLATION');
    if (role !== 'cli') await expect(subscribeOutcome(nc, `${SUBJECT_PREFIX[role]}.>`)).resolves.toBe('subscribed');
    // Facts: only their publishers may write them.
    const js = nc.jetstream();
    for (const def of spec.publishes) await expect(js.publish(def.subject, payload)).resolves.toMatchObject({ stream: def.stream });
    const forged = factEvents().find((def) => !spec.publishes.includes(def))!;
    await expect(js.publish(forged.subject, payload)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    // Nobody but the stream managers may touch stream config, and nobody may delete a stream.
    await expect(requestOutcome(nc, `$JS.API.STREAM.DELETE.${Streams.EVENTS.name}`)).resolves.toBe('PERMISSIONS_VIOLATION');
    if (!spec.managesStreams) await expect(requestOutcome(nc, `$JS.API.STREAM.UPDATE.${Streams.EVENTS.name}`)).resolves.toBe('PERMISSIONS_VIOLATION');
  });

  it('refuses the cross-tenant script: tool-runner execute as the gateway or the CLI', async () => {
    for (const role of ['gateway', 'cli'] as const) {
      const nc = await as(role);
      await expect(nc.request(Rpc.toolCallExecute.subject, payload, { timeout: 3000 })).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      // Nor can it listen in on tool-runner's queue to read or answer another team's calls.
      await expect(subscribeOutcome(nc, Rpc.toolCallExecute.subject)).resolves.toBe('PERMISSIONS_VIOLATION');
    }
    await expect(requestOutcome(await as('orchestrator'), Rpc.toolCallExecute.subject)).resolves.toBe('answered');
    // Only the gateway (and the CLI for what it administers) may call the orchestrator's app API.
    for (const role of BUS_ROLES.filter((r) => r !== 'gateway'))
      await expect(requestOutcome(await as(role), Rpc.appCreate.subject)).resolves.toBe('PERMISSIONS_VIOLATION');
    await expect(requestOutcome(await as('gateway'), Rpc.appCreate.subject)).resolves.toBe('answered');
  });

  it('lets a durable consumer read and ack its own stream, and nobody else read it', async () => {
    const orchestrator = await as('orchestrator');
    const jsm = await orchestrator.jetstreamManager();
    await jsm.consumers.add(Streams.RUNS.name, {
      durable_name: 'orchestrator-runs',
      ack_policy: AckPolicy.Explicit,
      filter_subject: Events.runRequested.subject,
    });
    await orchestrator.jetstream().publish(Events.runRequested.subject, payload, { msgID: 'bus-identity-run' });
    const consumer = await orchestrator.jetstream().consumers.get(Streams.RUNS.name, 'orchestrator-runs');
    const message = await consumer.next({ expires: 5000 });
    expect(message?.subject).toBe(Events.runRequested.subject);
    await expect(message!.ackAck()).resolves.toBe(true);
    // The gateway may not read the run queue, nor make itself a consumer on it.
    const gateway = await as('gateway');
    await expect(requestOutcome(gateway, `$JS.API.CONSUMER.MSG.NEXT.${Streams.RUNS.name}.orchestrator-runs`)).resolves.toBe('PERMISSIONS_VIOLATION');
    await expect(requestOutcome(gateway, `$JS.API.CONSUMER.CREATE.${Streams.RUNS.name}.spy`)).resolves.toBe('PERMISSIONS_VIOLATION');
    await expect(requestOutcome(gateway, '$JS.API.INFO')).resolves.toBe('answered');
  });

  it('keeps a service able to reach a health ping only through its own role', async () => {
    // The CLI pings every service; the git-service pings none.
    for (const ping of Object.values(HealthPing)) await expect(requestOutcome(await as('cli'), ping.subject)).resolves.toBe('answered');
    await expect(requestOutcome(await as('git-service'), HealthPing.orchestrator.subject)).resolves.toBe('PERMISSIONS_VIOLATION');
  });

  it('tells an operator whose CLI has no identity, or a malformed one, what to set', () => {
    const cli = (seedEnv: Record<string, string>) =>
      spawnSync(process.execPath, [join(REPO_ROOT, 'dist/tools/cli/src/main.js'), 'status'], {
        env: { ...process.env, NATS_URL: stack.natsUrl, NATS_NKEY_SEED: '', NATS_NKEY_SEED_FILE: '', ...seedEnv },
        encoding: 'utf8',
        timeout: 30_000,
      });
    expect(cli({})).toMatchObject({ status: 2, stderr: expect.stringContaining("refused the CLI's identity: set NATS_NKEY_SEED_FILE") });
    expect(cli({ NATS_NKEY_SEED: 'SUAM-not-a-seed' })).toMatchObject({ status: 2, stderr: expect.stringContaining('is not a user seed') });
    expect(cli({ NATS_NKEY_SEED_FILE: join(stack.dataDir, 'missing.nkey') })).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('cannot be read: ENOENT'),
    });
  });

  it('hands the TLS settings to nats.js when they are configured', () => {
    const options = natsAuthOptions({ role: 'gateway', tls: { caFile: '/etc/nats/ca.pem', certFile: '/etc/nats/tls.crt', keyFile: '/etc/nats/tls.key' } });
    expect(options).toMatchObject({
      inboxPrefix: '_INBOX.gateway',
      tls: { caFile: '/etc/nats/ca.pem', certFile: '/etc/nats/tls.crt', keyFile: '/etc/nats/tls.key' },
    });
    expect(() => natsAuthOptions({ role: 'gateway', nkeySeed: 'not-a-seed' })).toThrow('is not a user seed');
  });
});
