import { startTracing } from './start-tracing';

// The first thing a service's entry loads (its instrument.ts): the SDK must patch pg, ioredis,
// undici and http before any of them is loaded. Reads the same OTEL_EXPORTER_OTLP_ENDPOINT as the
// service config; a value the config will refuse is left alone here, so the refusal is the config's
// one clear line rather than an exporter error.
export function preloadTracing(service: string, environment: NodeJS.ProcessEnv = process.env): void {
  const endpoint = environment.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined;
  if (endpoint !== undefined && !isHttpUrl(endpoint)) return;
  startTracing({ service, endpoint });
}

function isHttpUrl(value: string): boolean {
  return URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
}
