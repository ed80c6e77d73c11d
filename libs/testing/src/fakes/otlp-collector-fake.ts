import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { closeServer, listenOnLoopback, readRequestBody, RequestBodyTooLargeError, sendJson } from './loopback-http-server';

// OTLP's numbering (SPAN_KIND_*), which is the API's SpanKind plus one.
export const OtlpSpanKind = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OtlpSpanKind */
  kind: number;
  serviceName: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
  status?: { code?: number; message?: string };
}

type SpansListener = () => void;

const TRACE_ID_BYTES = 16;
const SPAN_ID_BYTES = 8;
const UNKNOWN_SERVICE = 'unknown_service';

/**
 * An OTLP/HTTP trace receiver on loopback (what Jaeger or the OTel collector expose on :4318), taking
 * the JSON encoding that `@opentelemetry/exporter-trace-otlp-http` sends. Services point
 * OTEL_EXPORTER_OTLP_ENDPOINT at start()'s URL and tests assert on the spans they exported.
 */
export class OtlpCollectorFake {
  private readonly collected: CollectedSpan[] = [];
  private readonly listeners = new Set<SpansListener>();
  private server: Server | undefined;

  /** Listens on 127.0.0.1 (port 0 = any free port); resolves to the base URL, without `/v1/traces`. */
  async start(port = 0): Promise<string> {
    if (this.server) throw new Error('OtlpCollectorFake is already started');
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) sendJson(response, 500, { code: 13, message: `OtlpCollectorFake failed: ${String(error)}` });
        else response.destroy();
      });
    });
    server.keepAliveTimeout = 1000;
    const url = await listenOnLoopback(server, port);
    this.server = server;
    return url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await closeServer(server);
  }

  /** Every span received so far, in arrival order (a copy: later exports do not change it). */
  spans(): CollectedSpan[] {
    return [...this.collected];
  }

  /** Resolves with all spans once `predicate` holds for them; rejects after `timeoutMs` naming what did arrive. */
  waitForSpans(predicate: (spans: CollectedSpan[]) => boolean, timeoutMs = 5000): Promise<CollectedSpan[]> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const spans = this.spans();
        if (!predicate(spans)) return false;
        this.listeners.delete(check);
        clearTimeout(timer);
        resolve(spans);
        return true;
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        const seen = this.collected.map((span) => `${span.serviceName}/${span.name}`).join(', ') || 'none';
        reject(new Error(`OtlpCollectorFake: spans did not match within ${timeoutMs} ms; received ${this.collected.length}: ${seen}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  reset(): void {
    this.collected.length = 0;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    if (request.method === 'GET' && path === '/health') {
      sendJson(response, 200, { status: 'ok' });
      return;
    }
    if (path !== '/v1/traces') {
      sendJson(response, 404, { code: 5, message: `OtlpCollectorFake serves POST /v1/traces only, not ${request.method} ${path}` });
      return;
    }
    if (request.method !== 'POST') {
      sendJson(response, 405, { code: 12, message: 'Use POST for /v1/traces' }, { allow: 'POST' });
      return;
    }
    const contentType = String(request.headers['content-type'] ?? '')
      .split(';')[0]
      .trim()
      .toLowerCase();
    if (contentType !== 'application/json') {
      // Drain the body so the client reads the answer instead of a reset connection.
      request.resume();
      sendJson(response, 415, {
        code: 3,
        message:
          `OtlpCollectorFake accepts OTLP/JSON only (content-type application/json), got "${contentType || 'none'}". ` +
          'Use @opentelemetry/exporter-trace-otlp-http (or OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json), not the protobuf exporter.',
      });
      return;
    }

    let payload: unknown;
    try {
      payload = JSON.parse((await readRequestBody(request)).toString('utf8'));
    } catch (error) {
      const status = error instanceof RequestBodyTooLargeError ? 413 : 400;
      sendJson(response, status, { code: 3, message: `Invalid OTLP/JSON export request: ${errorMessage(error)}` });
      return;
    }
    let spans: CollectedSpan[];
    try {
      spans = parseExportTraceServiceRequest(payload);
    } catch (error) {
      sendJson(response, 400, { code: 3, message: `Invalid OTLP/JSON export request: ${errorMessage(error)}` });
      return;
    }
    this.collected.push(...spans);
    sendJson(response, 200, {});
    if (spans.length > 0) for (const listener of [...this.listeners]) listener();
  }
}

// ---- OTLP/JSON decoding (opentelemetry-proto ExportTraceServiceRequest, JSON mapping) ----

interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string | OtlpLongBits;
  doubleValue?: number | string;
  bytesValue?: string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
}

interface OtlpLongBits {
  low: number;
  high: number;
}

interface OtlpSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string | number | OtlpLongBits;
  endTimeUnixNano?: string | number | OtlpLongBits;
  attributes?: OtlpKeyValue[];
  status?: { code?: number; message?: string };
}

/** Flattens resourceSpans → scopeSpans → spans into CollectedSpan records. */
export function parseExportTraceServiceRequest(payload: unknown): CollectedSpan[] {
  if (typeof payload !== 'object' || payload === null) throw new Error('body must be a JSON object');
  const resourceSpans = (payload as { resourceSpans?: unknown }).resourceSpans ?? [];
  if (!Array.isArray(resourceSpans)) throw new Error('resourceSpans must be a list');
  const collected: CollectedSpan[] = [];
  for (const resourceSpan of resourceSpans) {
    const resourceAttributes = attributesOf(resourceSpan?.resource?.attributes);
    const serviceName = typeof resourceAttributes['service.name'] === 'string' ? resourceAttributes['service.name'] : UNKNOWN_SERVICE;
    for (const scopeSpan of resourceSpan?.scopeSpans ?? []) {
      for (const span of (scopeSpan?.spans ?? []) as OtlpSpan[]) {
        collected.push(toCollectedSpan(span, serviceName));
      }
    }
  }
  return collected;
}

function toCollectedSpan(span: OtlpSpan, serviceName: string): CollectedSpan {
  const traceId = normaliseId(span.traceId, TRACE_ID_BYTES);
  const spanId = normaliseId(span.spanId, SPAN_ID_BYTES);
  if (!traceId || !spanId) throw new Error(`span "${span.name ?? ''}" lacks a valid traceId or spanId`);
  const collected: CollectedSpan = {
    traceId,
    spanId,
    name: span.name ?? '',
    kind: span.kind ?? 0,
    serviceName,
    startTimeUnixNano: nanosToString(span.startTimeUnixNano),
    endTimeUnixNano: nanosToString(span.endTimeUnixNano),
    attributes: attributesOf(span.attributes),
  };
  const parentSpanId = normaliseId(span.parentSpanId, SPAN_ID_BYTES);
  if (parentSpanId) collected.parentSpanId = parentSpanId;
  if (span.status) {
    const status: NonNullable<CollectedSpan['status']> = {};
    if (span.status.code !== undefined) status.code = span.status.code;
    if (span.status.message) status.message = span.status.message;
    collected.status = status;
  }
  return collected;
}

/**
 * The JS exporter sends ids as hex; the protobuf JSON mapping (and older exporters) use base64.
 * A hex id of the expected length is taken as hex, anything else is decoded as base64. Empty or
 * all-zero ids mean "none".
 */
export function normaliseId(id: string | undefined, bytes: number): string | undefined {
  if (!id) return undefined;
  const hex = id.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
  if (hex.length !== bytes * 2 || /^0+$/.test(hex)) return undefined;
  return hex;
}

// Exporters send uint64/int64 as a decimal string, a number, or protobufjs {low, high} halves.
function toBigInt(value: string | number | OtlpLongBits): bigint {
  if (typeof value === 'object') return (BigInt(value.high >>> 0) << 32n) + BigInt(value.low >>> 0);
  return typeof value === 'number' ? BigInt(Math.trunc(value)) : BigInt(value);
}

function nanosToString(value: string | number | OtlpLongBits | undefined): string {
  return value === undefined ? '0' : BigInt.asUintN(64, toBigInt(value)).toString();
}

function attributesOf(keyValues: OtlpKeyValue[] | undefined): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const { key, value } of keyValues ?? []) attributes[key] = anyValue(value);
  return attributes;
}

function anyValue(value: OtlpAnyValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return intValue(value.intValue);
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.bytesValue !== undefined) return value.bytesValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(anyValue);
  if (value.kvlistValue !== undefined) return attributesOf(value.kvlistValue.values);
  return undefined;
}

// int64 travels as a decimal string in OTLP/JSON; keep it a number while that is exact.
function intValue(value: number | string | OtlpLongBits): number | string {
  const exact = BigInt.asIntN(64, toBigInt(value));
  const asNumber = Number(exact);
  return Number.isSafeInteger(asNumber) ? asNumber : exact.toString();
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
