import { create, toBinary } from '@bufbuild/protobuf';
import { aiV1 } from '@overskill/contracts';
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { subscribeDecoded } from './decoded-subscription';
import { natsAuthOptions } from './nats-connection';

// Against the integration stack's real nats-server.
describe('subscribeDecoded', () => {
  const natsUrl = process.env.OVERSKILL_TEST_NATS_URL;
  const seeds = process.env.OVERSKILL_TEST_NATS_SEEDS;
  if (!natsUrl || !seeds) throw new Error('integration stack not running');
  const credentials = { role: 'test-harness', nkeySeed: (JSON.parse(seeds) as Record<string, string>)['test-harness'] };
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connect({ servers: natsUrl, ...natsAuthOptions(credentials) });
  });

  afterAll(async () => {
    await nc?.close();
  });

  const chunk = (seq: number) => toBinary(aiV1.StreamChunkSchema, create(aiV1.StreamChunkSchema, { seq, event: 'content_block_delta', dataJson: '{}' }));

  it('hands over the messages decoded, in order, an unreadable one to onUnreadable, and none after close', async () => {
    const subject = `decoded.${randomUUID().slice(0, 8)}`;
    const seqs: number[] = [];
    let unreadable = 0;
    const live = subscribeDecoded(
      nc,
      subject,
      aiV1.StreamChunkSchema,
      (c) => seqs.push(c.seq),
      () => (unreadable += 1),
    );
    nc.publish(subject, chunk(0));
    nc.publish(subject, new Uint8Array([0xff, 0xff, 0xff]));
    nc.publish(subject, chunk(1));
    await nc.flush();
    await nc.flush();
    expect(seqs).toEqual([0, 1]);
    expect(unreadable).toBe(1);
    live.close();
    nc.publish(subject, chunk(2));
    await nc.flush();
    expect(seqs).toEqual([0, 1]);
  });
});
