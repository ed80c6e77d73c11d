import { create, toBinary } from '@bufbuild/protobuf';
import { Events, orchestratorV1, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient, publishDurable } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, runAllMigrations, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// Facts on the EVENTS stream end up in analytics once each, whatever else arrives.
describe('analytics stores platform facts from JetStream', () => {
  const stack = integrationStack();
  let platform: RunningPlatform;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;

  beforeAll(async () => {
    const dir = scratchDir(stack.dataDir, 'analytics');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'ws'),
      backupDir: join(dir, 'b'),
      logDir: join(dir, 'logs'),
      services: ['analytics'],
      env: { LOG_LEVEL: 'warn' },
    });
    nc = await connectNats(stack.natsUrl, 'analytics-test', stackNatsCredentials(stack));
    rpc = new NatsRpcClient(nc, createServiceMetrics('analytics-test'));
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
  });

  const fact = (teamId: string) => ({
    runId: randomUUID(),
    appId: randomUUID(),
    teamId,
    status: orchestratorV1.RunStatus.COMPLETED,
    iterations: 3,
    commitSha: 'abc',
    errorCode: '',
    occurredAt: new Date().toISOString(),
  });

  async function countFor(teamId: string, expected: number): Promise<number> {
    let count = -1;
    for (let i = 0; i < 100; i++) {
      count = Number((await rpc.send(Rpc.analyticsEventCount, { type: Events.runFinished.subject, teamId })).count);
      if (count === expected) return count;
      await new Promise((r) => setTimeout(r, 100));
    }
    return count;
  }

  it('stores a fact with its team, once per event id', async () => {
    const teamId = randomUUID();
    const msgId = randomUUID();
    await publishDurable(nc, Events.runFinished, fact(teamId), { msgId });
    await publishDurable(nc, Events.runFinished, fact(teamId), { msgId }); // a retried publish
    await publishDurable(nc, Events.runFinished, fact(teamId), { msgId: randomUUID() });
    expect(await countFor(teamId, 2)).toBe(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(await countFor(teamId, 2)).toBe(2);
  });

  it('drops a malformed or unknown fact and keeps consuming', async () => {
    const js = nc.jetstream();
    await js.publish(Events.runFinished.subject, new Uint8Array([0xff, 0xff, 0xff]), { msgID: randomUUID() });
    await js.publish('events.nobody.knows.v1', toBinary(orchestratorV1.RunFinishedSchema, create(orchestratorV1.RunFinishedSchema, fact(randomUUID()))), {
      msgID: randomUUID(),
    });
    const teamId = randomUUID();
    await publishDurable(nc, Events.runFinished, fact(teamId), { msgId: randomUUID() });
    expect(await countFor(teamId, 1)).toBe(1);
    expect(Number((await rpc.send(Rpc.analyticsEventCount, { type: 'events.nobody.knows.v1' })).count)).toBe(0);
  });
});
