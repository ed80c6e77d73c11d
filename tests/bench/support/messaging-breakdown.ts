import type { DescMessage } from '@bufbuild/protobuf';
import type { RpcDefinition } from '@overskill/contracts';
import {
  CORRELATION_ID_HEADER,
  decodeReply,
  encodeMessage,
  natsHeaderGetter,
  natsHeaderSetter,
  ProtobufNatsDeserializer,
  encodeReplyPacket,
  TENANT_ID_HEADER,
} from '@overskill/messaging';
import { createServiceMetrics, getTracer, newCorrelationId, requestContext } from '@overskill/observability';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { headers as natsHeaders } from 'nats';
import { round } from './stats';

// The CPU cost of each step the messaging lib adds to one request-reply, measured in-process on
// the same library code the services run: what the client does around nc.request(), and what
// NatsRpcServer does around the handler. These are the candidates when the lib is slower than raw
// NATS; the service's own nats_handler_duration_seconds tells how much of the server side they are.

export interface BreakdownItem {
  side: 'client' | 'server';
  step: string;
  usPerCall: number;
}

async function timeIt(iterations: number, fn: () => unknown): Promise<number> {
  // Warm up first so the JIT has compiled the step before it is timed.
  for (let i = 0; i < Math.min(2000, iterations); i++) await fn();
  const started = performance.now();
  for (let i = 0; i < iterations; i++) await fn();
  return round(((performance.now() - started) * 1000) / iterations, 2);
}

function timeSync(iterations: number, fn: () => unknown): number {
  for (let i = 0; i < Math.min(2000, iterations); i++) fn();
  const started = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  return round(((performance.now() - started) * 1000) / iterations, 2);
}

export async function measureBreakdown(opts: {
  def: RpcDefinition;
  requestInit: Record<string, unknown>;
  replyBytes: Uint8Array;
  iterations?: number;
}): Promise<BreakdownItem[]> {
  const n = opts.iterations ?? 20_000;
  const { def } = opts;
  const tracer = getTracer();
  const metrics = createServiceMetrics('bench-breakdown');
  const items: BreakdownItem[] = [];
  const add = (side: BreakdownItem['side'], step: string, usPerCall: number) => items.push({ side, step, usPerCall });

  // ---- client: NatsRpcClient.send() minus nc.request() ----
  add(
    'client',
    'startSpan + setAttribute + end (CLIENT span)',
    timeSync(n, () => {
      const span = tracer.startSpan(`send ${def.subject}`, {
        kind: SpanKind.CLIENT,
        attributes: { 'messaging.system': 'nats', 'messaging.destination.name': def.subject },
      });
      span.setAttribute('overskill.outcome', 'ok');
      span.end();
    }),
  );
  const span = tracer.startSpan('breakdown');
  add(
    'client',
    'headers() + propagation.inject (traceparent)',
    timeSync(n, () => {
      const h = natsHeaders();
      propagation.inject(trace.setSpan(context.active(), span), h, natsHeaderSetter);
    }),
  );
  add(
    'client',
    'requestContext.get + set correlation/tenant headers',
    timeSync(n, () => {
      const h = natsHeaders();
      const ctx = requestContext.get();
      h.set(CORRELATION_ID_HEADER, ctx?.correlationId ?? 'bench-correlation');
      h.set(TENANT_ID_HEADER, ctx?.tenantId ?? 'bench-team');
    }),
  );
  add(
    'client',
    'encodeMessage(request): protobuf writer',
    timeSync(n, () => encodeMessage(def.request, opts.requestInit as never)),
  );
  add(
    'client',
    'decodeReply(response): protobuf reader',
    timeSync(n, () => decodeReply(def as RpcDefinition<DescMessage, DescMessage>, opts.replyBytes, undefined)),
  );
  add(
    'client',
    'histogram observe (nats_request_duration_seconds)',
    timeSync(n, () => metrics.natsRequestDuration.observe({ subject: def.subject, outcome: 'ok' }, 0.0003)),
  );
  span.end();

  // ---- server: NatsRpcServer.handleMessage() minus the handler ----
  const incoming = natsHeaders();
  const parentSpan = tracer.startSpan('caller');
  propagation.inject(trace.setSpan(ROOT_CONTEXT, parentSpan), incoming, natsHeaderSetter);
  incoming.set(CORRELATION_ID_HEADER, 'bench-correlation');
  incoming.set(TENANT_ID_HEADER, 'bench-team');
  parentSpan.end();
  add(
    'server',
    'propagation.extract + startSpan + end (SERVER span)',
    timeSync(n, () => {
      const parent = propagation.extract(ROOT_CONTEXT, incoming, natsHeaderGetter);
      const s = tracer.startSpan(
        `handle ${def.subject}`,
        { kind: SpanKind.SERVER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': def.subject, 'overskill.service': def.owner } },
        parent,
      );
      s.setAttribute('overskill.outcome', 'ok');
      s.end();
    }),
  );
  add(
    'server',
    'newCorrelationId (randomUUID, when the caller sent none)',
    timeSync(n, () => newCorrelationId()),
  );
  const serverSpan = tracer.startSpan('server');
  add(
    'server',
    'requestContext.runIn: trace + request scope',
    await timeIt(n, () => requestContext.runIn(trace.setSpan(ROOT_CONTEXT, serverSpan), { correlationId: 'c', tenantId: 't' }, async () => undefined)),
  );
  serverSpan.end();
  const deserializer = new ProtobufNatsDeserializer();
  const emptyRequest = encodeMessage(def.request, opts.requestInit as never);
  add(
    'server',
    'deserialize(request): registry lookup + protobuf reader',
    timeSync(n, () => deserializer.deserialize(emptyRequest, { channel: def.subject, replyTo: '_INBOX.x' })),
  );
  const decoded = decodeReply(def as RpcDefinition<DescMessage, DescMessage>, opts.replyBytes, undefined);
  add(
    'server',
    'encodeReplyPacket(reply): protobuf writer',
    timeSync(n, () => encodeReplyPacket(def.subject, { response: decoded })),
  );
  add(
    'server',
    'histogram observe (nats_handler_duration_seconds)',
    timeSync(n, () => metrics.natsHandlerDuration.observe({ subject: def.subject, outcome: 'ok' }, 0.0003)),
  );

  return items;
}
