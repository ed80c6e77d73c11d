import { createServer, type Server } from 'node:http';
import { closeServer, listenOnLoopback, readRequestBody, sendJson } from './loopback-http-server';

// One advisory as npm's bulk advisory endpoint returns it.
export interface NpmAdvisory {
  id: number;
  title: string;
  severity: 'info' | 'low' | 'moderate' | 'high' | 'critical';
  vulnerable_versions: string;
  url: string;
}

/**
 * npm's registry as `npm audit` speaks to it: POST /-/npm/v1/security/advisories/bulk with
 * `{ name: [versions] }` (gzip) answered by the advisories of the packages asked about, and the
 * packument GET npm reads to work out whether a fix exists. On 127.0.0.1 only.
 */
export class NpmAuditRegistryFake {
  readonly bulkRequests: Record<string, string[]>[] = [];
  private server: Server | undefined;

  constructor(private readonly advisories: Record<string, NpmAdvisory[]>) {}

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      void (async () => {
        const body = await readRequestBody(request);
        const path = (request.url ?? '/').split('?')[0] ?? '/';
        if (request.method === 'POST' && path === '/-/npm/v1/security/advisories/bulk') {
          const asked = JSON.parse(body.toString('utf8') || '{}') as Record<string, string[]>;
          this.bulkRequests.push(asked);
          sendJson(response, 200, Object.fromEntries(Object.keys(asked).flatMap((name) => (this.advisories[name] ? [[name, this.advisories[name]]] : []))));
          return;
        }
        const name = decodeURIComponent(path.slice(1));
        const versions = this.advisories[name] ? { '1.0.0': { name, version: '1.0.0' } } : undefined;
        if (request.method === 'GET' && versions) sendJson(response, 200, { name, 'dist-tags': { latest: '1.0.0' }, versions });
        else sendJson(response, 404, { error: 'Not found' });
      })().catch(() => sendJson(response, 400, { error: 'bad request' }));
    });
    return `${await listenOnLoopback(this.server)}/`;
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }
}
