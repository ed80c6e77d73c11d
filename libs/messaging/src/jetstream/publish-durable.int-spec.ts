import { AppError, ErrorCode, orchestratorV1, type EventDefinition } from '@overskill/contracts';
import { requestContext } from '@overskill/observability';
import { fromBinary } from '@bufbuild/protobuf';
import { randomUUID } from 'node:crypto';
import { connect, DiscardPolicy, RetentionPolicy, StorageType, type NatsConnection } from 'nats';
import { natsAuthOptions } from '../nats-connection';
import { CORRELATION_ID_HEADER, TENANT_ID_HEADER } from '../rpc/nats-headers';
import { parsePubAck, publishDurable } from './jetstream';

// Against the integration stack's real nats-server, on streams of its own.
describe('publishDurable: stored once, acknowledged, or a clear error', () => {
  const natsUrl = process.env.OVERSKILL_TEST_NATS_URL;
  const seeds = process.env.OVERSKILL_TEST_NATS_SEEDS;
  if (!natsUrl || !seeds) throw new Error('integration stack not running');
  const credentials = { role: 'test-harness', nkeySeed: (JSON.parse(seeds) as Record<string, string>)['test-harness'] };
  const id = randomUUID().slice(0, 8);
  const stream = `PUBTEST_${id}`;
  const full = `PUBFULL_${id}`;
  const def: EventDefinition = { subject: `pubtest.${id}.finished.v1`, stream, message: orchestratorV1.RunFinishedSchema };
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connect({ servers: natsUrl, ...natsAuthOptions(credentials) });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({
      name: stream,
      subjects: [`pubtest.${id}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: 60e9,
    });
    // Refuses a second message: the publish must fail with the stream's reason, not pass.
    await jsm.streams.add({ name: full, subjects: [`pubfull.${id}.>`], storage: StorageType.Memory, max_msgs: 1, discard: DiscardPolicy.New });
  });

  afterAll(async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(stream).catch(() => undefined);
    await jsm.streams.delete(full).catch(() => undefined);
    await nc.close();
  });

  it('stores the message with its ids once, however often it is published under one msg-id', async () => {
    const runId = randomUUID();
    const msgId = `run-${runId}`;
    await requestContext.run({ correlationId: 'corr-pub-1', tenantId: 'team-ctx' }, () => publishDurable(nc, def, { runId }, { msgId, tenantId: 'team-a' }));
    await publishDurable(nc, def, { runId }, { msgId });
    const jsm = await nc.jetstreamManager();
    expect((await jsm.streams.info(stream)).state.messages).toBe(1);
    const stored = await jsm.streams.getMessage(stream, { last_by_subj: def.subject });
    expect(fromBinary(orchestratorV1.RunFinishedSchema, stored.data).runId).toBe(runId);
    expect(stored.header.get('Nats-Msg-Id')).toBe(msgId);
    expect(stored.header.get(CORRELATION_ID_HEADER)).toBe('corr-pub-1');
    expect(stored.header.get(TENANT_ID_HEADER)).toBe('team-a');
  });

  it('rejects a subject no stream stores, without waiting for a timeout', async () => {
    const started = Date.now();
    const err = await publishDurable(nc, { ...def, subject: `nostream.${id}.v1` }, { runId: randomUUID() }, { msgId: randomUUID() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe(ErrorCode.RPC_NO_RESPONDERS);
    expect((err as AppError).message).toContain('No JetStream stream stores');
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('rejects with the stream’s reason when the stream refuses the message', async () => {
    const fullDef: EventDefinition = { ...def, subject: `pubfull.${id}.x.v1`, stream: full };
    await publishDurable(nc, fullDef, { runId: randomUUID() }, { msgId: randomUUID() });
    const err = await publishDurable(nc, fullDef, { runId: randomUUID() }, { msgId: randomUUID() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toMatch(/JetStream did not store the message \(.*maximum messages.*\)/i);
  });

  it('reads an acknowledgement, and refuses an answer that is none', () => {
    const encode = (x: string) => new TextEncoder().encode(x);
    expect(parsePubAck('s', encode('{"stream":"EVENTS","seq":7}'))).toEqual({ stream: 'EVENTS', seq: 7 });
    expect(parsePubAck('s', encode('{"stream":"EVENTS","seq":7,"duplicate":true}')).duplicate).toBe(true);
    expect(() => parsePubAck('s', encode('not json'))).toThrow('is not a JetStream acknowledgement');
    expect(() => parsePubAck('s', encode('{"seq":1}'))).toThrow('names no stream');
    expect(() => parsePubAck('s', encode('{"error":{"code":503,"description":"insufficient resources"}}'))).toThrow('insufficient resources');
  });
});
