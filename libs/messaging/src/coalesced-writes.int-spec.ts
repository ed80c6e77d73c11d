import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { connect, type NatsConnection } from 'nats';
import { connectNats, natsAuthOptions } from './nats-connection';

type Writes = { count: number };

// Counts the socket writes nats.js makes on a connection (one per write(2) or writev(2)).
function countWrites(nc: NatsConnection): Writes {
  const socket = (nc as unknown as { protocol: { transport: { socket: Socket } } }).protocol.transport.socket as Socket & {
    _write: (...args: unknown[]) => void;
    _writev: (...args: unknown[]) => void;
  };
  const writes = { count: 0 };
  const write = socket._write.bind(socket);
  const writev = socket._writev.bind(socket);
  socket._write = (...args) => {
    writes.count++;
    write(...args);
  };
  socket._writev = (...args) => {
    writes.count++;
    writev(...args);
  };
  return writes;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

// Against the integration stack's real nats-server.
describe('a connection writes once per turn of the event loop', () => {
  const natsUrl = process.env.OVERSKILL_TEST_NATS_URL;
  const seeds = process.env.OVERSKILL_TEST_NATS_SEEDS;
  if (!natsUrl || !seeds) throw new Error('integration stack not running');
  const credentials = { role: 'test-harness', nkeySeed: (JSON.parse(seeds) as Record<string, string>)['test-harness'] };
  const subject = `coalesce.${randomUUID().slice(0, 8)}`;
  let ours: NatsConnection;
  let raw: NatsConnection;
  let reader: NatsConnection;

  beforeAll(async () => {
    ours = await connectNats(natsUrl, 'test-harness', credentials);
    raw = await connect({ servers: natsUrl, ...natsAuthOptions(credentials) });
    reader = await connect({ servers: natsUrl, ...natsAuthOptions(credentials) });
  });

  afterAll(async () => {
    await Promise.all([ours, raw, reader].map((nc) => nc?.close()));
  });

  // Each publish after its own microtask checkpoint, as a busy service's replies and requests are.
  async function publishAcrossCheckpoints(nc: NatsConnection, tag: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      nc.publish(`${subject}.${tag}`, new TextEncoder().encode(String(i)));
      await Promise.resolve();
    }
  }

  async function received(tag: string, count: number): Promise<{ sub: Promise<string[]> }> {
    const sub = reader.subscribe(`${subject}.${tag}`, { max: count });
    await reader.flush();
    const got = (async () => {
      const out: string[] = [];
      for await (const m of sub) out.push(new TextDecoder().decode(m.data));
      return out;
    })();
    return { sub: got };
  }

  // Twenty publishes across twenty checkpoints of one turn: the socket writes they took, and what arrived.
  async function publishTwenty(nc: NatsConnection, tag: string): Promise<{ writes: number; arrived: string[] }> {
    const { sub } = await received(tag, 20);
    const writes = countWrites(nc);
    await publishAcrossCheckpoints(nc, tag, 20);
    await nextTurn();
    return { writes: writes.count, arrived: await sub };
  }

  it("sends one turn's messages in one write, in the order they were queued", async () => {
    const { writes, arrived } = await publishTwenty(ours, 'ours');
    expect(writes).toBe(1);
    expect(arrived).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  it('leaves a connection without the option as nats.js makes it: one write per checkpoint', async () => {
    const { writes, arrived } = await publishTwenty(raw, 'raw');
    expect(writes).toBe(20);
    expect(arrived).toHaveLength(20);
  });

  it('writes what a turn queued before the connection closes in that turn', async () => {
    const closing = await connectNats(natsUrl!, 'test-harness', credentials);
    const { sub } = await received('closing', 1);
    closing.publish(`${subject}.closing`, new TextEncoder().encode('last words'));
    // As a draining server does: its reply was flushed a checkpoint before it closes.
    await Promise.resolve();
    await closing.close();
    const late = new Promise<string[]>((resolve) => setTimeout(() => resolve(['nothing within 5 s']), 5000).unref());
    expect(await Promise.race([sub, late])).toEqual(['last words']);
  });

  it('answers a lone request within the turn it was sent in, turn after turn', async () => {
    const echo = reader.subscribe(`${subject}.echo`, { callback: (_err, m) => m.respond(m.data) });
    await reader.flush();
    for (let i = 0; i < 50; i++) {
      const reply = await ours.request(`${subject}.echo`, new TextEncoder().encode(String(i)), { timeout: 2000 });
      expect(new TextDecoder().decode(reply.data)).toBe(String(i));
    }
    echo.unsubscribe();
  });
});
