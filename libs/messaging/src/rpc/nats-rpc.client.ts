import type { DescMessage, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import { AppError, ErrorCode, type RpcDefinition } from '@overskill/contracts';
import { getTracer, requestContext, type ServiceMetrics } from '@overskill/observability';
import { context, propagation, SpanKind, SpanStatusCode, trace, type SpanOptions } from '@opentelemetry/api';
import { ErrorCode as NatsErrorCode, headers as natsHeaders, type Msg, type NatsConnection, type NatsError } from 'nats';
import { CORRELATION_ID_HEADER, natsHeaderSetter, setHeader, TENANT_ID_HEADER } from './nats-headers';
import { replyInbox, RequestFailed, type ReplyFailure, type ReplyInbox } from './reply-inbox';
import { unsampled } from './sampling';
import { boundObserver, type Observe } from './bound-observer';
import { decodeReply, encodeMessage } from './rpc-codec';
import { natsLink, type NatsLink } from '../nats-connection';

export interface RpcCallOptions {
  timeoutMs?: number;
  // Overrides the tenant from the request context (e.g. a consumer acting for a run's team).
  tenantId?: string;
}

// The one way a service calls another: typed by the registry entry, protobuf on the wire,
// trace context and correlation/tenant ids in the headers, failures as AppError codes that
// tell "nobody is serving this" (RPC_NO_RESPONDERS) from "too slow" (RPC_TIMEOUT) from the
// remote handler's own code; while nats-server is unreachable, DEPENDENCY_UNAVAILABLE at once.
export class NatsRpcClient {
  private readonly link: NatsLink;
  private inbox?: ReplyInbox;
  private readonly tracer = getTracer();
  // Per subject, made once: the span's name and options, and the histogram bound to its labels.
  private readonly subjects = new Map<string, { spanName: string; spanOptions: SpanOptions; observe: Observe }>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly metrics: ServiceMetrics,
    private readonly defaultTimeoutMs = 10_000,
  ) {
    this.link = natsLink(nc);
  }

  async send<Req extends DescMessage, Res extends DescMessage>(
    def: RpcDefinition<Req, Res>,
    request: MessageInitShape<Req>,
    options: RpcCallOptions = {},
  ): Promise<MessageShape<Res>> {
    const started = performance.now();
    const perSubject = this.subjects.get(def.subject) ?? this.describe(def.subject);
    const active = context.active();
    // Inside a trace that is not recorded no span of ours would be either (ParentBased): the
    // active context is passed on as it is.
    const span = unsampled(active) ? undefined : this.tracer.startSpan(perSubject.spanName, perSubject.spanOptions, active);
    let outcome = 'ok';
    try {
      const headers = natsHeaders();
      propagation.inject(span ? trace.setSpan(active, span) : active, headers, natsHeaderSetter);
      const ctx = requestContext.get();
      if (ctx?.correlationId) setHeader(headers, CORRELATION_ID_HEADER, ctx.correlationId);
      const tenantId = options.tenantId ?? ctx?.tenantId;
      if (tenantId) setHeader(headers, TENANT_ID_HEADER, tenantId);

      const data = encodeMessage(def.request, request);
      const timeout = options.timeoutMs ?? this.defaultTimeoutMs;
      let reply: Msg;
      try {
        this.inbox ??= replyInbox(this.nc, this.link);
        reply = await this.inbox.request(def.subject, data, headers, timeout);
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw transportError(def.subject, err as NatsError | RequestFailed, timeout);
      }
      return decodeReply(def, reply.data, reply.headers);
    } catch (err) {
      outcome = err instanceof AppError ? err.code : ErrorCode.INTERNAL;
      span?.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
      throw err;
    } finally {
      // A span the sampler dropped takes no attributes; building them would be wasted work.
      if (span?.isRecording()) span.setAttribute('overskill.outcome', outcome);
      span?.end();
      perSubject.observe(outcome, (performance.now() - started) / 1000);
    }
  }

  private describe(subject: string) {
    const described = {
      spanName: `send ${subject}`,
      spanOptions: { kind: SpanKind.CLIENT, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject } },
      observe: boundObserver(this.metrics.natsRequestDuration, subject),
    };
    this.subjects.set(subject, described);
    return described;
  }
}

function transportError(subject: string, err: NatsError | RequestFailed, timeoutMs: number): AppError {
  const messages: Record<ReplyFailure, string> = {
    'no-responders': `No service is answering ${subject}; it may be down or not deployed`,
    timeout: `${subject} did not answer within ${timeoutMs} ms`,
    lost: `The NATS connection closed before ${subject} answered; it may have been handled`,
    closed: `The NATS connection is closed; ${subject} was not sent`,
  };
  if (err instanceof RequestFailed) return err.toAppError(messages);
  const code = err.code ?? (err.chainedError as NatsError | undefined)?.code;
  if (code === NatsErrorCode.NoResponders || (err.chainedError as NatsError | undefined)?.code === NatsErrorCode.NoResponders) {
    return new AppError(ErrorCode.RPC_NO_RESPONDERS, messages['no-responders']);
  }
  if (code === NatsErrorCode.Timeout) return new AppError(ErrorCode.RPC_TIMEOUT, messages.timeout);
  if (code === NatsErrorCode.ConnectionClosed || code === NatsErrorCode.Disconnect) return new AppError(ErrorCode.RPC_CONNECTION_CLOSED, messages.closed);
  if (code === NatsErrorCode.MaxPayloadExceeded) {
    return new AppError(ErrorCode.MESSAGE_TOO_LARGE, `The request to ${subject} exceeds the NATS max payload`);
  }
  return new AppError(ErrorCode.INTERNAL, `${subject} failed in transport (${code ?? err.message})`);
}
