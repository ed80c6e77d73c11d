import { connectNats } from '@overskill/messaging';
import { startStack, stackNatsCredentials, type RunningStack } from '@overskill/testing';
import { join } from 'node:path';
import { Events, type NatsConnection } from 'nats';
import { integrationStack, scratchDir } from '../support/integration-env';

// A paused nats-server outlasts the clients' connect timeout: the dials made meanwhile are given
// up while the kernel holds their TCP connections. After SIGCONT a service must be on the bus
// once, not twice: a second, forgotten link would take half its queue group's requests and its
// replies would leave on the other link, refused by the server (allow_responses).
describe('a nats-server paused past the connect timeout', () => {
  let stack: RunningStack;
  let responder: NatsConnection;
  let requester: NatsConnection;

  beforeAll(async () => {
    stack = await startStack({ dataDir: join(scratchDir(integrationStack().dataDir, 'nats-pause'), 'stack') });
    responder = await connectNats(stack.natsUrl, 'orchestrator', stackNatsCredentials(stack, 'orchestrator'));
    requester = await connectNats(stack.natsUrl, 'pause-probe', stackNatsCredentials(stack));
    responder.subscribe('orchestrator.pause-probe', { queue: 'orchestrator', callback: (_err, msg) => msg.respond(msg.data) });
    await responder.flush();
  }, 60_000);

  afterAll(async () => {
    await responder?.close();
    await requester?.close();
    await stack?.stop();
  });

  function reconnected(nc: NatsConnection): Promise<void> {
    return (async () => {
      for await (const status of nc.status()) if (status.type === Events.Reconnect) return;
    })();
  }

  async function connectionsNamed(name: string): Promise<number> {
    const connz = (await (await fetch(`${stack.natsMonitorUrl}/connz?limit=1024`)).json()) as { connections: Array<{ name?: string }> };
    return connz.connections.filter((c) => c.name === name).length;
  }

  it('leaves one link per client, and every request is answered', async () => {
    expect((await requester.request('orchestrator.pause-probe', new Uint8Array([1]), { timeout: 2000 })).data).toEqual(new Uint8Array([1]));
    const back = Promise.all([reconnected(responder), reconnected(requester)]);
    const pid = stack.pids().nats!;
    process.kill(pid, 'SIGSTOP');
    // Stale after two missed pings (4-6 s), then a dial that times out after 5 s with its socket
    // accepted by the kernel: 14 s covers both.
    await new Promise((r) => setTimeout(r, 14_000));
    process.kill(pid, 'SIGCONT');
    await back;
    // The server closes an abandoned dial at its 2 s auth timeout; that close is what used to
    // make nats.js leave its healthy link open and dial again.
    await new Promise((r) => setTimeout(r, 3500));
    await requester.flush();
    await responder.flush();

    expect(await connectionsNamed('orchestrator')).toBe(1);
    const answers = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => requester.request('orchestrator.pause-probe', new Uint8Array([i]), { timeout: 2000 })),
    );
    expect(answers.filter((a) => a.status === 'rejected')).toEqual([]);
  }, 60_000);
});
