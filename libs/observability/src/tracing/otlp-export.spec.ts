import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const WORKSPACE_ROOT = join(__dirname, '..', '..', '..', '..');

// Jest's VM cannot run the dynamic import() the OTLP exporter sends with, so the real wire path is
// exercised in a plain Node child that loads this library's TypeScript through swc.
const CHILD = `
const fs = require('node:fs');
const { transformSync } = require('@swc/core');
const swcrc = JSON.parse(fs.readFileSync('.swcrc', 'utf8'));
delete swcrc.jsc.baseUrl; delete swcrc.jsc.paths; delete swcrc.exclude;
require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), { ...swcrc, filename, swcrc: false, sourceMaps: false });
  module._compile(code, filename);
};
const { startTracing } = require('./libs/observability/src/tracing/start-tracing.ts');
const handle = startTracing({ service: 'otlp-spec', version: '1.4.0', endpoint: process.env.ENDPOINT });
const span = handle.tracer.startSpan('exported work');
span.setAttribute('job', 'export');
span.end();
handle.forceFlush().then(() => handle.shutdown()).then(() => process.stdout.write(span.spanContext().traceId));
`;

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string };
}

interface Received {
  path?: string;
  contentType?: string;
  body: {
    resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: { traceId: string; name: string }[] }[] }[];
  };
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
    req.on('error', reject);
  });
}

describe('startTracing with an OTLP endpoint', () => {
  it('exports spans as OTLP/HTTP JSON to <endpoint>/v1/traces with the service resource', async () => {
    const received: Received[] = [];
    const collector = createServer((req, res) => {
      void readJson(req).then((body) => {
        received.push({ path: req.url, contentType: req.headers['content-type'], body: body as Received['body'] });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/`;

    try {
      const traceId = await new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          ['-e', CHILD],
          { cwd: WORKSPACE_ROOT, env: { ...process.env, ENDPOINT: endpoint }, timeout: 20_000 },
          (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim())),
        );
      });

      expect(received).toHaveLength(1);
      expect(received[0].path).toBe('/v1/traces');
      expect(received[0].contentType).toBe('application/json');
      const [resourceSpans] = received[0].body.resourceSpans;
      const resource = Object.fromEntries(resourceSpans.resource.attributes.map((a) => [a.key, a.value.stringValue]));
      expect(resource).toMatchObject({ 'service.name': 'otlp-spec', 'service.version': '1.4.0' });
      expect(resource['service.instance.id']).toEqual(expect.any(String));
      const [span] = resourceSpans.scopeSpans[0].spans;
      expect(span).toMatchObject({ name: 'exported work', traceId });
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  }, 30_000);
});
