import { NatsContext, ServerNats, type WritePacket } from '@nestjs/microservices';
import { AppError, ErrorCode, rpcForSubject, SUBJECT_PREFIX, type ServiceName } from '@overskill/contracts';
import { getTracer, newCorrelationId, requestContext, type ServiceMetrics } from '@overskill/observability';
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type SpanOptions } from '@opentelemetry/api';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { isObservable } from 'rxjs';
import type { Logger } from 'pino';
import { CORRELATION_ID_HEADER, headerValue, messageHeaders, natsHeaderGetter, TENANT_ID_HEADER } from './nats-headers';
import { decodeRequest, encodeErrorReply } from './rpc-codec';
import { unsampled } from './sampling';
import { settleWithin } from '../settle-within';
import { NATS_CONNECTION_OPTIONS, natsAuthOptions, type NatsCredentials } from '../nats-connection';
import { ProtobufNatsDeserializer } from './protobuf-nats.deserializer';
import { encodeReplyPacket, errorFromPacket, ProtobufNatsSerializer } from './protobuf-nats.serializer';
import { boundObserver, type Observe } from './bound-observer';

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
  // Requests taken and not yet answered; close() waits for them.
  private running = 0;
  private whenIdle?: () => void;
  private startHookSet = false;
  private readonly tracer = getTracer();
  // Per subject, made once: the span's name and options, and the histogram bound to its labels.
  private readonly subjects = new Map<string, { spanName: string; spanOptions: SpanOptions; observe: Observe }>();

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

  // One subscription for the service's whole namespace in its queue group, dispatched by subject:
  // each request reaches one replica once. A caller asking for a subject this service doesn't
  // serve (a typo, a version not rolled out yet) gets SUBJECT_UNKNOWN at once instead of waiting
  // for a timeout. A handler outside the namespace or in a queue of its own keeps Nest's own
  // subscription.
  override bindEvents(client: Parameters<ServerNats['bindEvents']>[0]): void {
    const nc = client as unknown as NatsConnection;
    const prefix = `${SUBJECT_PREFIX[this.rpc.service]}.`;
    const subscriptions = (this as unknown as { subscriptions: Subscription[] }).subscriptions;
    const dispatched = new Set<string>();
    for (const [channel, handler] of this.messageHandlers) {
      const queue = (handler.extras?.queue as string | undefined) ?? this.rpc.service;
      if (channel.startsWith(prefix) && queue === this.rpc.service) dispatched.add(channel);
      else subscriptions.push(nc.subscribe(channel, { queue, callback: (err, msg) => (err ? this.logger.error(err) : void this.handleMessage(channel, msg)) }));
    }
    subscriptions.push(
      nc.subscribe(`${prefix}>`, {
        queue: this.rpc.service,
        callback: (err, msg) => {
          if (err) return this.logger.error(err);
          if (dispatched.has(msg.subject)) return this.receive(msg.subject, msg);
          if (!msg.reply || this.messageHandlers.has(msg.subject)) return;
          const reply = encodeErrorReply(ErrorCode.SUBJECT_UNKNOWN, `${this.rpc.service} does not answer ${msg.subject}`);
          msg.respond(reply.data, { headers: reply.headers });
          this.perSubject('unknown').observe(ErrorCode.SUBJECT_UNKNOWN, 0);
        },
      }),
    );
  }

  override async close(): Promise<void> {
    // Nest keeps the subscriptions to itself; drain them so no delivered message is lost.
    const subscriptions = (this as unknown as { subscriptions?: Subscription[] }).subscriptions ?? [];
    await Promise.allSettled(subscriptions.map((sub) => sub.drain()));
    const idle = this.running === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.whenIdle = resolve));
    if (!(await settleWithin([idle], RPC_DRAIN_MS))) {
      this.rpc.logger.warn({ inFlight: this.running, waitedMs: RPC_DRAIN_MS }, 'closing with RPC handlers still running; their callers will time out');
    }
    await super.close();
  }

  // Nest's entry point (a handler with a subscription of its own); resolves once answered.
  override handleMessage(channel: string, natsMsg: Msg): Promise<void> {
    return new Promise((resolve) => this.receive(channel, natsMsg, resolve));
  }

  override setOnProcessingStartHook(hook: Parameters<ServerNats['setOnProcessingStartHook']>[0]): void {
    this.startHookSet = true;
    super.setOnProcessingStartHook(hook);
  }

  private perSubject(subject: string) {
    let described = this.subjects.get(subject);
    if (!described) {
      described = {
        spanName: `handle ${subject}`,
        spanOptions: {
          kind: SpanKind.SERVER,
          attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'overskill.service': this.rpc.service },
        },
        observe: boundObserver(this.rpc.metrics.natsHandlerDuration, subject),
      };
      this.subjects.set(subject, described);
    }
    return described;
  }

  // No async function and no promise of our own per request: the handler's promise is the only
  // one, and its continuation answers.
  private receive(channel: string, natsMsg: Msg, answeredCallback?: () => void): void {
    const started = performance.now();
    const headers = messageHeaders(natsMsg);
    const parent = headers ? propagation.extract(ROOT_CONTEXT, headers, natsHeaderGetter) : ROOT_CONTEXT;
    const described = this.perSubject(channel);
    // The caller's sampling decision holds here (ParentBased): a trace it does not record gets no
    // span of ours either; its context goes on to the handler and any call it makes as it came.
    const span = unsampled(parent) ? undefined : this.tracer.startSpan(described.spanName, described.spanOptions, parent);
    const correlationId = headerValue(headers, CORRELATION_ID_HEADER) ?? newCorrelationId();
    const tenantId = headerValue(headers, TENANT_ID_HEADER);
    let answered = false;
    this.running++;

    const respond = (packet: WritePacket & { status?: string }): void => {
      if (answered) return; // Nest may follow a reply with a dispose packet; one reply only
      answered = true;
      const seconds = (performance.now() - started) / 1000;
      const failed = packet.err !== undefined || packet.status === 'error';
      const outcome = failed ? errorFromPacket(packet.err).code : 'ok';
      if (natsMsg.reply) {
        try {
          const encoded = encodeReplyPacket(channel, packet);
          natsMsg.respond(encoded.data, encoded.headers ? { headers: encoded.headers } : undefined);
        } catch (err) {
          this.rpc.logger.error({ err, subject: channel }, 'could not send a reply');
        }
      }
      // nats.js writes the reply in a microtask it queued above; the span and the histogram wait
      // for the one queued after it, so the caller's reply is not held up by bookkeeping.
      queueMicrotask(() => {
        if (span) {
          if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
          if (span.isRecording()) span.setAttribute('overskill.outcome', outcome);
          span.end();
        }
        described.observe(outcome, seconds);
        if (--this.running === 0) this.whenIdle?.();
        answeredCallback?.();
      });
    };

    requestContext.runIn(span ? trace.setSpan(parent, span) : parent, { correlationId, tenantId }, () => this.dispatch(channel, natsMsg, respond));
  }

  private dispatch(channel: string, natsMsg: Msg, respond: (packet: WritePacket & { status?: string }) => void): void {
    const failed = (err: unknown) => {
      if (!(err instanceof AppError)) this.rpc.logger.error({ err, subject: channel }, 'handler failed outside Nest');
      respond({ err });
    };
    try {
      if (!natsMsg.reply) {
        // Request-reply only: durable work and events go through JetStream consumers.
        this.rpc.logger.warn({ subject: channel }, 'dropped a message without a reply subject');
        return respond({ err: new AppError(ErrorCode.MESSAGE_MALFORMED, 'a reply subject is required') });
      }
      // Subjects are plain strings: a map lookup, not Nest's JSON-pattern matching.
      const handler = this.messageHandlers.get(channel);
      if (!handler) return respond({ err: new AppError(ErrorCode.SUBJECT_UNKNOWN, `${this.rpc.service} does not answer ${channel}`) });
      const def = rpcForSubject(channel);
      // Decoded here, synchronously: the same bytes Nest's deserializer would hand over.
      const payload = def ? decodeRequest(def, natsMsg.data) : natsMsg.data;
      const natsCtx = new NatsContext([natsMsg.subject, natsMsg.headers]);
      // Nest's handler (guards, pipes, interceptors, exception filters) resolves with the reply, or
      // a lean one (lean-handlers.ts) returns it at once; the exception layer answers with an
      // Observable that errors, which alone needs Nest's RxJS reply path.
      const answer = (result: unknown): void => {
        try {
          if (isObservable(result)) this.send(result, respond);
          else respond({ response: result });
        } catch (err) {
          failed(err);
        }
      };
      const run = (): Promise<void> | void => {
        const result = handler(payload, natsCtx);
        if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') return Promise.resolve(result).then(answer, failed);
        answer(result);
      };
      if (this.startHookSet) void this.onProcessingStartHook(this.transportId, natsCtx, () => Promise.resolve(run()));
      else void run();
    } catch (err) {
      failed(err);
    }
  }
}
