import type { DescMessage, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import { AppError, ErrorCode, type RpcDefinition } from '@overskill/contracts';
import { getTracer, requestContext, type ServiceMetrics } from '@overskill/observability';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ErrorCode as NatsErrorCode, headers as natsHeaders, type NatsConnection, type NatsError } from 'nats';
import { CORRELATION_ID_HEADER, natsHeaderSetter, TENANT_ID_HEADER } from './nats-headers';
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
    const span = getTracer().startSpan(`send ${def.subject}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': def.subject },
    });
    let outcome = 'ok';
    try {
      const headers = natsHeaders();
      propagation.inject(trace.setSpan(context.active(), span), headers, natsHeaderSetter);
      const ctx = requestContext.get();
      if (ctx?.correlationId) headers.set(CORRELATION_ID_HEADER, ctx.correlationId);
      const tenantId = options.tenantId ?? ctx?.tenantId;
      if (tenantId) headers.set(TENANT_ID_HEADER, tenantId);

      const data = encodeMessage(def.request, request);
      const timeout = options.timeoutMs ?? this.defaultTimeoutMs;
      let reply;
      try {
        reply = await this.link.whileUp(() => this.nc.request(def.subject, data, { timeout, headers }));
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw transportError(def.subject, err as NatsError, timeout);
      }
      return decodeReply(def, reply.data, reply.headers);
    } catch (err) {
      outcome = err instanceof AppError ? err.code : ErrorCode.INTERNAL;
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
      throw err;
    } finally {
      span.setAttribute('overskill.outcome', outcome);
      span.end();
      this.metrics.natsRequestDuration.observe({ subject: def.subject, outcome }, (performance.now() - started) / 1000);
    }
  }
}

function transportError(subject: string, err: NatsError, timeoutMs: number): AppError {
  const code = err.code ?? (err.chainedError as NatsError | undefined)?.code;
  if (code === NatsErrorCode.NoResponders || (err.chainedError as NatsError | undefined)?.code === NatsErrorCode.NoResponders) {
    return new AppError(ErrorCode.RPC_NO_RESPONDERS, `No service is answering ${subject}; it may be down or not deployed`);
  }
  if (code === NatsErrorCode.Timeout) {
    return new AppError(ErrorCode.RPC_TIMEOUT, `${subject} did not answer within ${timeoutMs} ms`);
  }
  if (code === NatsErrorCode.ConnectionClosed || code === NatsErrorCode.Disconnect) {
    return new AppError(ErrorCode.RPC_CONNECTION_CLOSED, `The NATS connection is closed; ${subject} was not sent`);
  }
  if (code === NatsErrorCode.MaxPayloadExceeded) {
    return new AppError(ErrorCode.MESSAGE_TOO_LARGE, `The request to ${subject} exceeds the NATS max payload`);
  }
  return new AppError(ErrorCode.INTERNAL, `${subject} failed in transport (${code ?? err.message})`);
}
