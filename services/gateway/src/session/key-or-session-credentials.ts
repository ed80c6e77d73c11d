import { Injectable } from '@nestjs/common';
import { RequestCredentials } from '../auth/request-credentials';
import { ApiKeysService } from '../keys/api-keys.service';
import type { AuthCheck } from '../routing/access';
import { presentedKey, type AuditableRequest } from '../routing/request';
import { sessionIdFrom } from './session-cookie';
import { SessionService } from './session.service';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

// A key header wins; without one, the console's session cookie, whose writes need the CSRF token.
@Injectable()
export class KeyOrSessionCredentials extends RequestCredentials {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly sessions: SessionService,
  ) {
    super();
  }

  async authenticate(request: AuditableRequest): Promise<AuthCheck> {
    const key = presentedKey(request);
    const sessionId = key === undefined ? sessionIdFrom(request.headers.cookie) : undefined;
    // The edge checked this very key against the cached row moments ago: unless the row left
    // the cache since (revoked, rotated, expired, invalidation channel lost), it stands.
    const edge = request.keyRate?.principal;
    if (key !== undefined && edge && this.keys.stillCached(edge)) return { principal: edge };
    if (sessionId === undefined) return this.keys.check(key);
    const resolved = await this.sessions.resolve(sessionId);
    if ('principal' in resolved) {
      request.session = { id: sessionId, csrfToken: resolved.csrfToken, expiresAt: resolved.expiresAt };
      if (!READ_METHODS.has(request.method)) {
        request.principal = resolved.principal;
        const header = request.headers['x-csrf-token'];
        this.sessions.assertCsrf(resolved.csrfToken, typeof header === 'string' ? header : undefined);
      }
    }
    return resolved;
  }

  teamSlug(teamId: string): Promise<string | null> {
    return this.keys.teamSlug(teamId);
  }
}
