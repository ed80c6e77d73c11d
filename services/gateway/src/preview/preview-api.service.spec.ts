import type { AppsRepository } from '../api/apps.repository';
import type { Principal } from '../routing/access';
import { PreviewApiService } from './preview-api.service';
import type { PreviewRepository } from './preview.repository';

// The logs route's merge: console entries, the dev server's own output (stored as console
// entries whose location is `server`) and requests, filtered by source.
describe('PreviewApiService.logs', () => {
  const principal: Principal = { keyId: 'k', keyPrefix: 'osk_x', teamId: 'team-1', role: 'viewer', scopes: [] };
  const consoleEntries = [
    { level: 'error', message: 'Uncaught TypeError', source: 'http://p/app.js:3:1', pageUrl: '/', occurredAt: '2026-12-05T00:00:03.000Z' },
    { level: 'error', message: '[vite] Internal server error', source: 'server', pageUrl: '', occurredAt: '2026-12-05T00:00:02.000Z' },
  ];
  const requests = [{ method: 'GET', url: '/api/x', status: 500, durationMs: 12, error: '', pageUrl: '/', occurredAt: '2026-12-05T00:00:01.000Z' }];
  const apps = { get: async () => ({}) } as unknown as AppsRepository;
  const previews = {
    consoleLogs: async () => ({ entries: consoleEntries, total: 2n }),
    requests: async () => ({ entries: requests, total: 1n }),
  } as unknown as PreviewRepository;
  const service = new PreviewApiService(apps, previews);
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
