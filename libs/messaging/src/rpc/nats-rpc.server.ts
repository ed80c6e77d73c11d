import { NatsContext, ServerNats, type WritePacket } from '@nestjs/microservices';
import { AppError, ErrorCode, SUBJECT_PREFIX, type ServiceName } from '@overskill/contracts';
import { getTracer, newCorrelationId, requestContext, type ServiceMetrics } from '@overskill/observability';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Msg, MsgHdrs, NatsConnection, Subscription } from 'nats';
import { isObservable } from 'rxjs';
import type { Logger } from 'pino';
import { CORRELATION_ID_HEADER, natsHeaderGetter, TENANT_ID_HEADER } from './nats-headers';
import { encodeErrorReply } from './rpc-codec';
import { settleWithin } from '../settle-within';
import { NATS_CONNECTION_OPTIONS, natsAuthOptions, type NatsCredentials } from '../nats-connection';
import { ProtobufNatsDeserializer } from './protobuf-nats.deserializer';
import { errorFromPacket, ProtobufNatsSerializer } from './protobuf-nats.serializer';

// How long closing waits for running handlers; callers' own deadlines are about this long.
const RPC_DRAIN_MS = 10_000;

export interface NatsRpcServerOptions {
  service: ServiceName;
  natsUrl: string;
  credentials: NatsCredentials;
  metrics: ServiceMetrics;
  logger: Logger;
}

// Nest's NATS transport with the platform's rules: protobuf both ways, one queue group per
// service (replicas share load), the caller's trace and correlation id restored for the
// handler, every outcome timed, and a reply with a code for anything that goes wrong —
// a malformed payload, a subject the service doesn't answer, a handler that throws.
// Closing drains: the subscriptions stop taking messages (replicas in the queue group get
// them), handlers already running finish and reply, then the connection closes.
export class NatsRpcServer extends ServerNats {
  private unknownSubjects?: Subscription;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly rpc: NatsRpcServerOptions) {
    super({
      servers: rpc.natsUrl,
      name: rpc.service,
      queue: rpc.service,
      serializer: new ProtobufNatsSerializer(),
      deserializer: new ProtobufNatsDeserializer(),
      // close() below drains; Nest's own graceful mode only waits a fixed period.
      gracefulShutdown: false,
      ...NATS_CONNECTION_OPTIONS,
      ...natsAuthOptions(rpc.credentials),
    });
  }

  override bindEvents(client: Parameters<ServerNats['bindEvents']>[0]): void {
    super.bindEvents(client);
    const nc = client as unknown as NatsConnection;
    const handled = new Set(this.messageHandlers.keys());
    // A caller asking for a subject this service doesn't serve (a typo, a version not rolled
    // out yet) gets SUBJECT_UNKNOWN at once instead of waiting for a timeout.
    this.unknownSubjects = nc.subscribe(`${SUBJECT_PREFIX[this.rpc.service]}.>`, {
      queue: `${this.rpc.service}.unknown-subjects`,
      callback: (err, msg) => {
        if (err || !msg.reply || handled.has(msg.subject)) return;
        const reply = encodeErrorReply(ErrorCode.SUBJECT_UNKNOWN, `${this.rpc.service} does not answer ${msg.subject}`);
        msg.respond(reply.data, { headers: reply.headers });
        this.rpc.metrics.natsHandlerDuration.observe({ subject: 'unknown', outcome: ErrorCode.SUBJECT_UNKNOWN }, 0);
      },
    });
  }

  override async close(): Promise<void> {
    // Nest keeps the handlers' subscriptions to itself; drain them so no delivered message is lost.
    const subscriptions = (this as unknown as { subscriptions?: Subscription[] }).subscriptions ?? [];
    await Promise.allSettled([...subscriptions, ...(this.unknownSubjects ? [this.unknownSubjects] : [])].map((sub) => sub.drain()));
    if (!(await settleWithin(this.inFlight, RPC_DRAIN_MS))) {
      this.rpc.logger.warn({ inFlight: this.inFlight.size, waitedMs: RPC_DRAIN_MS }, 'closing with RPC handlers still running; their callers will time out');
    }
    await super.close();
  }

  override handleMessage(channel: string, natsMsg: Msg): Promise<void> {
    const task = this.process(channel, natsMsg).finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
    return task;
  }

  private async process(channel: string, natsMsg: Msg): Promise<void> {
    const started = performance.now();
    const headers = natsMsg.headers;
    const parent = propagation.extract(ROOT_CONTEXT, headers, natsHeaderGetter);
    const span = getTracer().startSpan(
      `handle ${channel}`,
      { kind: SpanKind.SERVER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': channel, 'overskill.service': this.rpc.service } },
      parent,
    );
    const correlationId = headerValue(headers, CORRELATION_ID_HEADER) ?? newCorrelationId();
    const tenantId = headerValue(headers, TENANT_ID_HEADER);
    let answered = false;

    const respond = (packet: WritePacket & { status?: string }): void => {
      if (answered) return; // Nest may follow a reply with a dispose packet; one reply only
      answered = true;
      const failed = packet.err !== undefined || packet.status === 'error';
      const outcome = failed ? errorFromPacket(packet.err).code : 'ok';
      if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
      span.setAttribute('overskill.outcome', outcome);
      span.end();
      this.rpc.metrics.natsHandlerDuration.observe({ subject: channel, outcome }, (performance.now() - started) / 1000);
      if (!natsMsg.reply) return;
      try {
        const encoded = this.serializer.serialize({ ...packet, subject: channel } as never) as { data: Uint8Array; headers?: MsgHdrs };
        natsMsg.respond(encoded.data, { headers: encoded.headers });
      } catch (err) {
        this.rpc.logger.error({ err, subject: channel }, 'could not send a reply');
      }
    };

    return context.with(trace.setSpan(parent, span), () =>
      requestContext.run({ correlationId, tenantId }, async () => {
        try {
          if (!natsMsg.reply) {
            // Request-reply only: durable work and events go through JetStream consumers.
            this.rpc.logger.warn({ subject: channel }, 'dropped a message without a reply subject');
            return respond({ err: new AppError(ErrorCode.MESSAGE_MALFORMED, 'a reply subject is required') });
          }
          const message = await this.deserializer.deserialize(natsMsg.data, { channel, replyTo: natsMsg.reply });
          // Subjects are plain strings: a map lookup, not Nest's JSON-pattern matching.
          const handler = this.messageHandlers.get(channel);
          if (!handler) return respond({ err: new AppError(ErrorCode.SUBJECT_UNKNOWN, `${this.rpc.service} does not answer ${channel}`) });
          const natsCtx = new NatsContext([natsMsg.subject, headers]);
          await this.onProcessingStartHook(this.transportId, natsCtx, async () => {
            const result: unknown = await handler(message.data, natsCtx);
            // Handlers return promises; Nest's exception layer returns an Observable that errors.
            // Only Observables need Nest's RxJS reply path.
            if (isObservable(result)) this.send(result, respond);
            else respond({ response: result });
          });
        } catch (err) {
          if (!(err instanceof AppError)) this.rpc.logger.error({ err, subject: channel }, 'handler failed outside Nest');
          respond({ err });
        }
      }),
    );
  }
}

function headerValue(headers: Msg['headers'], key: string): string | undefined {
  if (!headers?.has(key)) return undefined;
  const value = headers.get(key);
  return value ? value : undefined;
}
