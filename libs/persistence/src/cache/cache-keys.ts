import type { CacheLevel } from './cache-config';

const PREFIX = 'overskill:cache';

// Ids go into keys encoded, so no id can reach into another key's space (`:` is the separator).
const part = (value: string) => encodeURIComponent(value);

// Key layout: `overskill:cache:<level>:<team>:<app>:<generations>:<entry>[:<path>]` for the tenant
// and file levels, `overskill:cache:global:<entry>:<key>` for the global one.
export const cacheKeys = {
  stats: `${PREFIX}:stats`,
  levelPattern: (level: CacheLevel, teamId?: string) => `${PREFIX}:${level}:${teamId && level !== 'global' ? `${part(teamId)}:` : ''}*`,
  globalPrefix: (name: string) => `${PREFIX}:global:${name}:`,
  tenantPrefix: (s: { teamId: string; appId: string }) => `${PREFIX}:tenant:${part(s.teamId)}:${part(s.appId)}:`,
  filePrefix: (s: { teamId: string; appId: string }) => `${PREFIX}:file:${part(s.teamId)}:${part(s.appId)}:`,
  // By app id alone (ids are unique across teams), so a service that knows only the app can drop it;
  // the entries themselves still carry the team id.
  appGeneration: (appId: string) => `${PREFIX}:gen:app:${part(appId)}`,
  // The app's file tree alone (a file created, deleted or renamed).
  treeGeneration: (appId: string) => `${PREFIX}:gen:tree:${part(appId)}`,
  fileGeneration: (appId: string, path: string) => `${PREFIX}:gen:file:${part(appId)}:${path}`,
  // A team's list of apps (an app created, renamed or deleted): the gateways' cached list pages.
  teamAppsGeneration: (teamId: string) => `${PREFIX}:gen:team-apps:${part(teamId)}`,
};

// What a stored key says about itself: its level, team and app (decoded), and the generations it
// was stored under, so cleanup can tell a current entry from one a write made unreachable.
export function describeCacheKey(key: string): { level: CacheLevel; teamId: string; appId: string; generations: string[]; path: string } | undefined {
  const parts = key.split(':');
  if (parts[0] !== 'overskill' || parts[1] !== 'cache') return undefined;
  const level = parts[2];
  if (level === 'global') return { level, teamId: '', appId: '', generations: [], path: '' };
  if (level !== 'tenant' && level !== 'file') return undefined;
  const [team = '', app = '', gens = ''] = parts.slice(3, 6);
  // file: …:<gens>:<entry>:<path, which may hold colons>
  const path = level === 'file' ? parts.slice(7).join(':') : '';
  return { level, teamId: decodeURIComponent(team), appId: decodeURIComponent(app), generations: gens.split('.'), path };
}
