import { fromBinary, type DescMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { AppError, ErrorCode, Streams, type EventDefinition } from '@overskill/contracts';
import { getTracer, newCorrelationId, requestContext } from '@overskill/observability';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AckPolicy, DeliverPolicy, headers as natsHeaders, RetentionPolicy, StorageType, type JsMsg, type Msg as NatsMsg, type NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { CORRELATION_ID_HEADER, natsHeaderGetter, natsHeaderSetter, setHeader, TENANT_ID_HEADER } from '../rpc/nats-headers';
import { natsLink } from '../nats-connection';
import { replyInbox, RequestFailed } from '../rpc/reply-inbox';
import { encodeMessage } from '../rpc/rpc-codec';
import { settleWithin } from '../settle-within';

// JetStream's de-duplication header: a second publish with the same id within the stream's window is acknowledged, not stored.
const MSG_ID_HEADER = 'Nats-Msg-Id';

// Idempotent: creates the platform's streams or updates their subjects.
export async function ensureStreams(nc: NatsConnection): Promise<void> {
  const jsm = await nc.jetstreamManager();
  for (const stream of Object.values(Streams)) {
    const config = {
      name: stream.name,
      subjects: [...stream.subjects],
      retention: stream.workQueue ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: 2 * 60 * 1_000_000_000, // 2 min of msg-id dedup, in ns
    };
    try {
      await jsm.streams.info(stream.name);
      await jsm.streams.update(stream.name, { subjects: config.subjects });
    } catch {
      await jsm.streams.add(config);
    }
  }
}

// How long a durable publish waits for the stream's acknowledgement (nats.js's JetStream default).
const PUBLISH_ACK_TIMEOUT_MS = 5000;

// Publishes a durable message; msgId makes a duplicate publish (a retry) one message. Resolves once
// the stream has stored it (its PubAck). Sent on the connection's shared reply inbox, as an RPC is:
// nats.js's JetStream client would make a client object per call and, for every acknowledged
// publish, a NatsError with its stack to cancel the finished request. While the link is down it
// fails at once with DEPENDENCY_UNAVAILABLE, nothing sent; nats.js's client failed too, after its
// 5 s timeout (a publish made while disconnected was not acknowledged after the reconnect).
export async function publishDurable<Msg extends DescMessage>(
  nc: NatsConnection,
  def: EventDefinition<Msg>,
  value: MessageInitShape<Msg>,
  opts: { msgId: string; tenantId?: string },
): Promise<void> {
  // The consumer's span is a child of this one: the trace shows when the message was stored.
  const span = getTracer().startSpan(`publish ${def.subject}`, {
    kind: SpanKind.PRODUCER,
    attributes: { 'messaging.system': 'nats', 'messaging.destination.name': def.subject, 'messaging.message.id': opts.msgId },
  });
  const headers = natsHeaders();
  propagation.inject(trace.setSpan(context.active(), span), headers, natsHeaderSetter);
  const ctx = requestContext.get();
  setHeader(headers, CORRELATION_ID_HEADER, ctx?.correlationId ?? newCorrelationId());
  const tenantId = opts.tenantId ?? ctx?.tenantId;
  if (tenantId) setHeader(headers, TENANT_ID_HEADER, tenantId);
  setHeader(headers, MSG_ID_HEADER, opts.msgId);
  try {
    let reply: NatsMsg;
    try {
      reply = await replyInbox(nc, natsLink(nc)).request(def.subject, encodeMessage(def.message, value), headers, PUBLISH_ACK_TIMEOUT_MS);
    } catch (err) {
      throw err instanceof RequestFailed ? publishFailure(def.subject, err) : err;
    }
    const ack = parsePubAck(def.subject, reply.data);
    span.setAttributes({ 'messaging.nats.stream': ack.stream, 'messaging.nats.sequence': ack.seq, 'messaging.nats.duplicate': ack.duplicate === true });
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}

interface PubAck {
  stream: string;
  seq: number;
  duplicate?: boolean;
  error?: { code?: number; err_code?: number; description?: string };
}

// The stream's answer to a publish: its acknowledgement, or the reason it did not store the message.
export function parsePubAck(subject: string, data: Uint8Array): PubAck {
  let ack: PubAck;
  try {
    ack = JSON.parse(new TextDecoder().decode(data)) as PubAck;
  } catch {
    throw new AppError(ErrorCode.INTERNAL, `${subject}: the answer to a durable publish is not a JetStream acknowledgement`);
  }
  if (ack.error) throw new AppError(ErrorCode.INTERNAL, `${subject}: JetStream did not store the message (${ack.error.description ?? ack.error.code})`);
  if (!ack.stream) throw new AppError(ErrorCode.INTERNAL, `${subject}: the answer to a durable publish names no stream`);
  return ack;
}

function publishFailure(subject: string, err: RequestFailed): AppError {
  return err.toAppError({
    'no-responders': `No JetStream stream stores ${subject}; the message was not stored`,
    timeout: `JetStream did not acknowledge ${subject} within ${PUBLISH_ACK_TIMEOUT_MS} ms; it may have been stored`,
    lost: `The NATS connection closed before JetStream acknowledged ${subject}; it may have been stored`,
    closed: `The NATS connection is closed; ${subject} was not published`,
  });
}

export interface DurableConsumerOptions<Msg extends DescMessage> {
  nc: NatsConnection;
  def: EventDefinition<Msg>;
  durable: string;
  // Bounded in-flight work per replica.
  maxInFlight: number;
  ackWaitMs: number;
  logger: Logger;
  handle(message: MessageShape<Msg>, raw: JsMsg): Promise<void>;
}

// One durable consumer for several event types of one stream (analytics reads every fact).
export interface MultiEventConsumerOptions {
  nc: NatsConnection;
  stream: string;
  filterSubject: string;
  definitions: readonly EventDefinition[];
  durable: string;
  maxInFlight: number;
  ackWaitMs: number;
  logger: Logger;
  handle(def: EventDefinition, message: MessageShape<DescMessage>, raw: JsMsg): Promise<void>;
}

export interface RunningConsumer {
  stop(drainMs?: number): Promise<void>;
}

// How long stopping a consumer waits for running handlers before releasing their messages.
const CONSUMER_DRAIN_MS = 10_000;

interface ConsumerCore {
  nc: NatsConnection;
  stream: string;
  filterSubject: string;
  durable: string;
  maxInFlight: number;
  ackWaitMs: number;
  logger: Logger;
  // Resolves the message's type from its subject; undefined = a type this consumer can't read.
  definitionFor(subject: string): EventDefinition | undefined;
  handle(def: EventDefinition, message: MessageShape<DescMessage>, raw: JsMsg): Promise<void>;
}

// A durable pull consumer with explicit acks: a message is acked only after its handler
// finished, so a replica that dies mid-way leaves it to be redelivered to another.
export function startDurableConsumer<Msg extends DescMessage>(opts: DurableConsumerOptions<Msg>): Promise<RunningConsumer> {
  return consume({
    ...opts,
    stream: opts.def.stream,
    filterSubject: opts.def.subject,
    definitionFor: (subject) => (subject === opts.def.subject ? opts.def : undefined),
    handle: (_def, message, raw) => opts.handle(message as MessageShape<Msg>, raw),
  });
}

export function startMultiEventConsumer(opts: MultiEventConsumerOptions): Promise<RunningConsumer> {
  const bySubject = new Map(opts.definitions.map((def) => [def.subject, def]));
  return consume({ ...opts, definitionFor: (subject) => bySubject.get(subject) });
}

async function consume(opts: ConsumerCore): Promise<RunningConsumer> {
  const jsm = await opts.nc.jetstreamManager();
  try {
    await jsm.consumers.info(opts.stream, opts.durable);
  } catch {
    await jsm.consumers.add(opts.stream, {
      durable_name: opts.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: opts.filterSubject,
      ack_wait: opts.ackWaitMs * 1_000_000,
      max_ack_pending: 1000,
    });
  }
  const consumer = await opts.nc.jetstream().consumers.get(opts.stream, opts.durable);
  const messages = await consumer.consume({ max_messages: opts.maxInFlight });
  const inFlight = new Map<Promise<void>, JsMsg>();
  // Handed back to JetStream by stop(): their handlers may still finish, but must not ack.
  const released = new WeakSet<JsMsg>();
  let stopping = false;
  let onStop!: () => void;
  const stopped = new Promise<void>((resolve) => (onStop = resolve));

  const loop = (async () => {
    for await (const raw of messages) {
      while (inFlight.size >= opts.maxInFlight && !stopping) await Promise.race([...inFlight.keys(), stopped]);
      if (stopping) {
        // Pulled but not started: straight back for another replica.
        raw.nak();
        continue;
      }
      const task = handleOne(opts, raw, released).finally(() => inFlight.delete(task));
      inFlight.set(task, raw);
    }
  })();

  return {
    // Stops pulling, lets running handlers finish for up to drainMs, then releases the rest for
    // redelivery at once instead of after their ack wait.
    async stop(drainMs = CONSUMER_DRAIN_MS) {
      stopping = true;
      onStop();
      await messages.close();
      await loop.catch(() => undefined);
      if (await settleWithin(inFlight.keys(), drainMs)) return;
      for (const raw of inFlight.values()) {
        released.add(raw);
        raw.nak();
      }
      opts.logger.warn(
        { stream: opts.stream, durable: opts.durable, released: inFlight.size, waitedMs: drainMs },
        'released unfinished durable messages for redelivery',
      );
    },
  };
}

// Thrown by a handler whose message cannot be worked on yet (it waits its turn): redelivered
// after the delay, logged at debug, not counted as a failure.
export class RedeliverLater extends Error {
  constructor(
    message: string,
    readonly delayMs = 2000,
  ) {
    super(message);
  }
}

async function handleOne(opts: ConsumerCore, raw: JsMsg, released: WeakSet<JsMsg>): Promise<void> {
  const parent = propagation.extract(ROOT_CONTEXT, raw.headers, natsHeaderGetter);
  const span = getTracer().startSpan(`consume ${raw.subject}`, { kind: SpanKind.CONSUMER }, parent);
  const correlationId = raw.headers?.get(CORRELATION_ID_HEADER) || newCorrelationId();
  const tenantId = raw.headers?.get(TENANT_ID_HEADER) || undefined;
  // Long work keeps the message ours: tell JetStream we're alive before ack_wait runs out.
  const heartbeat = setInterval(() => released.has(raw) || raw.working(), Math.max(1000, opts.ackWaitMs / 2));
  try {
    const def = opts.definitionFor(raw.subject);
    let message: MessageShape<DescMessage>;
    try {
      if (!def) throw new Error(`no event type is registered for ${raw.subject}`);
      message = fromBinary(def.message, raw.data);
    } catch (err) {
      // Poison: redelivery can never fix it.
      opts.logger.error({ err, subject: raw.subject, seq: raw.seq }, 'dropping a durable message this consumer cannot read');
      raw.term();
      return;
    }
    await requestContext.runIn(trace.setSpan(parent, span), { correlationId, tenantId }, () => opts.handle(def, message, raw));
    if (!released.has(raw)) raw.ack();
  } catch (err) {
    if (released.has(raw)) return;
    if (err instanceof RedeliverLater) {
      opts.logger.debug({ subject: raw.subject, seq: raw.seq, reason: err.message }, 'durable message waits its turn');
      raw.nak(err.delayMs);
      return;
    }
    span.setStatus({ code: SpanStatusCode.ERROR });
    opts.logger.error({ err, subject: raw.subject, seq: raw.seq }, 'durable message handler failed; it will be redelivered');
    raw.nak(2000);
  } finally {
    clearInterval(heartbeat);
    span.end();
  }
}
