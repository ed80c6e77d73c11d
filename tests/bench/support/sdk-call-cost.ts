// A child process's script: the CPU of one @anthropic-ai/sdk call on ai-router's fetch against a
// loopback AnthropicFake in the same process (so the figure is client + fake), for the SDK's
// OpenTelemetry settings side by side, interleaved in blocks. With TRACING=1 the process first starts
// the services' own tracing (dist/libs/observability: context manager, HTTP client instrumentation,
// no exporter, as in the benches), and every call runs under an active span like a handler's.
// Prints one JSON line: { variant: CPU ms per call }.
export function sdkCallCostScript(): string {
  return `
const { join } = require('node:path');
const dist = join(process.cwd(), 'dist');
if (process.env.TRACING === '1') require(join(dist, 'libs/observability/src/tracing/start-tracing.js')).startTracing({ service: 'bench-sdk-call' });
const { trace } = require('@opentelemetry/api');
const { AnthropicFake } = require(join(dist, 'libs/testing/src/index.js'));
const { countingFetch, countingAttempts } = require(join(dist, 'services/ai-router/src/providers/chat-provider.js'));
const Anthropic = require('@anthropic-ai/sdk').default;
(async () => {
  const fake = new AnthropicFake({ apiKey: 'sk-ant-bench' });
  const baseURL = await fake.start();
  fake.respondWith(() => ({ content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 12, output_tokens: 2 } }));
  const client = (openTelemetry) => new Anthropic({ apiKey: 'sk-ant-bench', baseURL, fetch: countingFetch, maxRetries: 0, ...(openTelemetry === undefined ? {} : { openTelemetry }) });
  const variants = {
    'SDK defaults (its span, its own trace headers)': client(undefined),
    'its span, trace headers from the HTTP instrumentation only': client({ propagation: false }),
    'no SDK span': client(false),
  };
  const tracer = trace.getTracer('bench');
  const params = { model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Say ok' }] };
  // As ai-router calls it: under the handler's span, attempts counted, retries and timeout per call.
  const one = (c) => tracer.startActiveSpan('handler', async (span) => {
    const r = await countingAttempts(() => c.messages.create(params, { maxRetries: 0, timeout: 120000 }));
    span.end();
    if (r.error || r.attempts !== 1) throw r.error ?? new Error('attempts: ' + r.attempts);
  });
  const calls = Number(process.env.CALLS);
  const blocks = 8;
  const perBlock = Math.ceil(calls / blocks);
  for (const c of Object.values(variants)) for (let i = 0; i < 200; i++) await one(c);
  const cpu = {};
  for (let b = 0; b < blocks; b++)
    for (const [name, c] of Object.entries(variants)) {
      const u0 = process.cpuUsage();
      for (let i = 0; i < perBlock; i++) await one(c);
      const u = process.cpuUsage(u0);
      cpu[name] = (cpu[name] ?? 0) + (u.user + u.system) / 1000;
    }
  await fake.stop();
  const out = {};
  for (const [name, ms] of Object.entries(cpu)) out[name] = Math.round((ms / (perBlock * blocks)) * 1000) / 1000;
  process.stdout.write(JSON.stringify(out) + '\\n');
})().catch((err) => { console.error(err); process.exit(1); });
`;
}
