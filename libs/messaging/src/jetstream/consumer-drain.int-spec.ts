import { orchestratorV1, type EventDefinition } from '@overskill/contracts';
import { randomUUID } from 'node:crypto';
import { connect, RetentionPolicy, StorageType, type JsMsg, type NatsConnection } from 'nats';
import pino from 'pino';
import { natsAuthOptions } from '../nats-connection';
import { publishDurable, startMultiEventConsumer, type RunningConsumer } from './jetstream';

// Against the integration stack's real nats-server, on a stream of its own.
describe('durable consumer: stopping drains, then releases', () => {
  const natsUrl = process.env.OVERSKILL_TEST_NATS_URL;
  const seeds = process.env.OVERSKILL_TEST_NATS_SEEDS;
  if (!natsUrl || !seeds) throw new Error('integration stack not running');
  // The harness identity: this spec makes a stream of its own, outside any service's role.
  const credentials = { role: 'test-harness', nkeySeed: (JSON.parse(seeds) as Record<string, string>)['test-harness'] };
  const id = randomUUID().slice(0, 8);
  const stream = `DRAINTEST_${id}`;
  // A work-queue stream takes one consumer per subject: each case has its own.
  const defFor = (name: string): EventDefinition => ({ subject: `draintest.${id}.${name}.v1`, stream, message: orchestratorV1.RunFinishedSchema });
  const logger = pino({ level: 'silent' });
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connect({ servers: natsUrl, ...natsAuthOptions(credentials) });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [`draintest.${id}.>`], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
  });

  // Every consumer a case starts is stopped and every handler it blocked let go, even when the case
  // fails: a running consumer or handler keeps timers (pulls, progress heartbeats) that would keep
  // the test process alive after the connection closes.
  const started: RunningConsumer[] = [];
  let unblock: (() => void) | undefined;
  afterEach(async () => {
    unblock?.();
    unblock = undefined;
    await Promise.all(started.splice(0).map((c) => c.stop(0).catch(() => undefined)));
  });

  afterAll(async () => {
    await (await nc.jetstreamManager()).streams.delete(stream).catch(() => undefined);
    await nc.close();
  });

  const consumer = async (def: EventDefinition, durable: string, handle: (raw: JsMsg) => Promise<void>) => {
    const running = await startMultiEventConsumer({
      nc,
      stream,
      filterSubject: def.subject,
      definitions: [def],
      durable,
      maxInFlight: 1,
      ackWaitMs: 60_000,
      logger,
      handle: (_d, _m, raw) => handle(raw),
    });
    started.push(running);
    return running;
  };
  const publish = (def: EventDefinition) => publishDurable(nc, def, { runId: randomUUID() }, { msgId: randomUUID() });

  it('lets a running handler finish and ack before it stops', async () => {
    const def = defFor('finish');
    const durable = `finish-${id}`;
    const done: string[] = [];
    const first = await consumer(def, durable, async (raw) => {
      await new Promise((r) => setTimeout(r, 300));
      done.push(String(raw.seq));
    });
    await publish(def);
    await new Promise((r) => setTimeout(r, 100));
    await first.stop(5000);
    expect(done).toHaveLength(1);
    const info = await (await nc.jetstreamManager()).consumers.info(stream, durable);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
  });

  it('releases what did not finish in time, and the held next message, for another replica at once', async () => {
    const def = defFor('release');
    const durable = `release-${id}`;
    const blocked = new Promise<void>((r) => (unblock = r));
    const startedByFirst: string[] = [];
    const first: RunningConsumer = await consumer(def, durable, async (raw) => {
      startedByFirst.push(String(raw.seq));
      await blocked;
    });
    await publish(def);
    await publish(def);
    while (startedByFirst.length === 0) await new Promise((r) => setTimeout(r, 20));
    // Stop only once the second message is held too: one still on the wire when the pull
    // subscription closes is dropped by the client and comes back only after the ack wait.
    const jsm = await nc.jetstreamManager();
    while ((await jsm.consumers.info(stream, durable)).num_ack_pending < 2) await new Promise((r) => setTimeout(r, 20));
    const stoppedAt = Date.now();
    await first.stop(300);

    const secondGot: Array<{ seq: number; deliveries: number }> = [];
    const second = await consumer(def, durable, async (raw) => void secondGot.push({ seq: raw.seq, deliveries: raw.info.deliveryCount }));
    while (secondGot.length < 2 && Date.now() - stoppedAt < 20_000) await new Promise((r) => setTimeout(r, 20));
    // Well inside the 60 s ack wait: both came back because they were released, not expired.
    expect(Date.now() - stoppedAt).toBeLessThan(20_000);
    expect(secondGot).toHaveLength(2);
    expect(secondGot.find((m) => String(m.seq) === startedByFirst[0])?.deliveries).toBe(2);
    // The first handler finishing late must not ack a message now another replica's.
    unblock?.();
    await new Promise((r) => setTimeout(r, 200));
    await second.stop();
    expect(startedByFirst).toHaveLength(1);
    const info = await (await nc.jetstreamManager()).consumers.info(stream, durable);
    expect(info.num_ack_pending).toBe(0);
  });
});
