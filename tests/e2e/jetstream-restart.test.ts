import { AppError, ErrorCode, Events, type EventDefinition } from '@overskill/contracts';
import { connectNats, ensureStreams, natsAuthOptions, natsLink, publishDurable } from '@overskill/messaging';
import { startStack, type RunningStack, stackNatsCredentials } from '@overskill/testing';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { AckPolicy, connect, type JsMsg, type NatsConnection } from 'nats';
import { integrationStack, scratchDir } from '../support/integration-env';

const MESSAGES = 20;
const DELIVERED = 10;
const ACKED = 5;

// Its own nats-server: it is killed. The streams are the platform's own (ensureStreams: file
// storage, 2 min dedup window), on a store directory like compose's `-js -sd /data`.
describe('JetStream survives a nats-server kill -9 and restart', () => {
  let stack: RunningStack;

  beforeAll(async () => {
    stack = await startStack({ dataDir: join(scratchDir(integrationStack().dataDir, 'jetstream-restart'), 'stack') });
    const nc = await connect({ servers: stack.natsUrl, ...natsAuthOptions(stackNatsCredentials(stack)) });
    await ensureStreams(nc);
    await nc.close();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  async function killAndRestart(whileDown?: () => void): Promise<void> {
    const pid = stack.pids().nats!;
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 50));
      } catch {
        break;
      }
    }
    whileDown?.();
    await stack.startServer('nats');
  }

  // Fetches until nothing more comes; acks each at once when asked (so none times out meanwhile).
  async function fetchAll(nc: NatsConnection, stream: string, durable: string, max: number, ack: boolean): Promise<JsMsg[]> {
    const consumer = await nc.jetstream().consumers.get(stream, durable);
    const got: JsMsg[] = [];
    for (;;) {
      const batch = await consumer.fetch({ max_messages: max - got.length, expires: 2000 });
      let n = 0;
      for await (const m of batch) {
        if (ack) m.ack();
        got.push(m);
        n++;
      }
      if (n === 0 || got.length >= max) return got;
    }
  }

  // RUNS is a work queue (an acked message is gone); EVENTS keeps every fact (limits retention).
  it.each([
    ['RUNS', Events.runRequested, 'orchestrator-runs-restart'],
    ['EVENTS', Events.runFinished, 'analytics-restart'],
  ] as Array<[string, EventDefinition, string]>)(
    '%s: stored messages, redelivery of the unacked and the dedup window survive; acks are at-least-once',
    async (stream, def, durable) => {
      const before = await connect({ servers: stack.natsUrl, ...natsAuthOptions(stackNatsCredentials(stack)) });
      const js = before.jetstream();
      const jsm = await before.jetstreamManager();
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        filter_subject: def.subject,
        ack_wait: 1_000_000_000,
        max_deliver: 10,
      });
      const seqs: number[] = [];
      for (let i = 0; i < MESSAGES; i++) {
        const ack = await js.publish(def.subject, new TextEncoder().encode(`${stream} ${i}`), { msgID: `${stream}-restart-${i}` });
        expect(ack.duplicate).toBe(false);
        seqs.push(ack.seq);
      }
      // Ten delivered; five acked (confirmed by the server), five left unacked when it dies.
      const delivered = await fetchAll(before, stream, durable, DELIVERED, false);
      expect(delivered).toHaveLength(DELIVERED);
      for (const m of delivered.slice(0, ACKED)) expect(await m.ackAck()).toBe(true);
      const acked = new Set(delivered.slice(0, ACKED).map((m) => m.seq));
      await before.close();

      await killAndRestart();

      const after = await connect({ servers: stack.natsUrl, ...natsAuthOptions(stackNatsCredentials(stack)) });
      try {
        const afterJs = after.jetstream();
        const afterJsm = await after.jetstreamManager();
        // Every message not acked is still stored; a work queue has dropped at most the acked ones.
        const stored = (await afterJsm.streams.info(stream)).state.messages;
        if (stream === 'RUNS') expect(stored).toBeGreaterThanOrEqual(MESSAGES - ACKED);
        else expect(stored).toBe(MESSAGES);

        // The dedup window is rebuilt from the stored messages: the same message id is a duplicate,
        // not a second message (one delivered but unacked, one never delivered; on EVENTS an acked one too).
        for (const i of stream === 'RUNS' ? [7, MESSAGES - 1] : [0, 7, MESSAGES - 1]) {
          const again = await afterJs.publish(def.subject, new TextEncoder().encode(`${stream} ${i}`), { msgID: `${stream}-restart-${i}` });
          expect(again).toMatchObject({ duplicate: true, seq: seqs[i] });
        }
        expect((await afterJsm.streams.info(stream)).state.messages).toBe(stored);

        // The durable consumer resumes where its stored state says: the five delivered but unacked
        // come again (redelivered), then the ten never delivered. Acks are written to disk lazily,
        // so an ack from the last moments before a kill -9 may be lost and its message come once
        // more, marked redelivered (at-least-once: the platform's consumers are idempotent).
        const rest = await fetchAll(after, stream, durable, MESSAGES, true);
        const restSeqs = rest.map((m) => m.seq);
        expect(new Set(restSeqs).size).toBe(restSeqs.length);
        const unacked = seqs.filter((seq) => !acked.has(seq));
        expect(unacked.filter((seq) => !restSeqs.includes(seq))).toEqual([]);
        const redelivered = rest.filter((m) => m.info.redelivered).map((m) => m.seq);
        expect(delivered.slice(ACKED).filter((m) => !redelivered.includes(m.seq))).toEqual([]);
        expect(rest.filter((m) => acked.has(m.seq) && !m.info.redelivered)).toEqual([]);
        expect(restSeqs.filter((seq) => !seqs.includes(seq))).toEqual([]);
      } finally {
        await after.close();
      }
    },
    60_000,
  );
  it('refuses a durable publish at once while nats-server is down, and stores it once when it is back', async () => {
    // A service's connection: it reconnects forever.
    const nc = await connectNats(stack.natsUrl, 'restart-publisher', stackNatsCredentials(stack));
    try {
      const runId = randomUUID();
      const msgId = `restart-publish-${runId}`;
      const link = natsLink(nc);
      let whileDown: Promise<unknown> | undefined;
      await killAndRestart(() => {
        whileDown = (async () => {
          // Published once the client has noticed the loss.
          for (let i = 0; link.up && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
          const started = Date.now();
          const err = await publishDurable(nc, Events.runFinished, { runId }, { msgId }).catch((e: unknown) => e);
          return { err, ms: Date.now() - started };
        })();
      });
      const down = (await whileDown) as { err: AppError; ms: number };
      expect(down.err).toBeInstanceOf(AppError);
      expect(down.err.code).toBe(ErrorCode.DEPENDENCY_UNAVAILABLE);
      expect(down.ms).toBeLessThan(1000);
      for (let i = 0; !link.up && i < 1000; i++) await new Promise((r) => setTimeout(r, 10));
      await publishDurable(nc, Events.runFinished, { runId }, { msgId });
      const jsm = await nc.jetstreamManager();
      const stored = await jsm.streams.getMessage('EVENTS', { last_by_subj: Events.runFinished.subject });
      expect(stored.header.get('Nats-Msg-Id')).toBe(msgId);
      await publishDurable(nc, Events.runFinished, { runId }, { msgId });
      expect((await jsm.streams.getMessage('EVENTS', { last_by_subj: Events.runFinished.subject })).seq).toBe(stored.seq);
    } finally {
      await nc.close();
    }
  }, 60_000);
});
