import { Rpc } from '@overskill/contracts';
import type { NatsRpcClient } from '@overskill/messaging';
import type { Principal } from '../routing/access';
import { PreviewApiService } from './preview-api.service';

// The logs route's merge: console entries, the dev server's own output (stored as console
// entries whose location is `server`) and requests, filtered by source.
describe('PreviewApiService.logs', () => {
  const principal: Principal = { keyId: 'k', keyPrefix: 'osk_x', teamId: 'team-1', role: 'viewer', scopes: [] };
  const consoleEntries = [
    { level: 'error', message: 'Uncaught TypeError', source: 'http://p/app.js:3:1', pageUrl: '/', occurredAt: '2026-12-05T00:00:03.000Z' },
    { level: 'error', message: '[vite] Internal server error', source: 'server', pageUrl: '', occurredAt: '2026-12-05T00:00:02.000Z' },
  ];
  const requests = [{ method: 'GET', url: '/api/x', status: 500, durationMs: 12, error: '', pageUrl: '/', occurredAt: '2026-12-05T00:00:01.000Z' }];
  const send = jest.fn(async (subject: string) => {
    if (subject === Rpc.appGet.subject) return {};
    if (subject === Rpc.analyticsConsoleRead.subject) return { entries: consoleEntries, total: 2n };
    return { entries: requests, total: 1n };
  });
  const service = new PreviewApiService({ send: (rpc: { subject: string }) => send(rpc.subject) } as unknown as NatsRpcClient);
  const logs = (source?: 'console' | 'network' | 'server') => service.logs(principal, 'app-1', { limit: 10, source });

  it('tells the dev server output apart from the browser console', async () => {
    expect((await logs()).entries.map((e) => [e.source, e.location])).toEqual([
      ['console', 'http://p/app.js:3:1'],
      ['server', null],
      ['network', null],
    ]);
  });

  it('filters by source', async () => {
    expect((await logs('server')).entries.map((e) => e.message)).toEqual(['[vite] Internal server error']);
    expect((await logs('console')).entries.map((e) => e.message)).toEqual(['Uncaught TypeError']);
    expect((await logs('network')).entries.map((e) => e.source)).toEqual(['network']);
  });
});
