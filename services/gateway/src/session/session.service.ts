import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { GATEWAY_ENV, type GatewayEnv } from '../config';
import type { Principal } from '../routing/access';
import { ApiKeysService, hashKey } from '../keys/api-keys.service';
import { AuthenticationError, type AuthCheck } from '../routing/access';
import { SessionRepository } from './session.repository';

export interface OpenedSession {
  id: string;
  principal: Principal;
  csrfToken: string;
  expiresAt: string;
}

export interface SessionView {
  teamId: string;
  keyId: string;
  keyPrefix: string;
  role: string;
  scopes: string[];
  operator: boolean;
  csrfToken: string | null;
  expiresAt: string | null;
}

export type ResolvedSession = AuthCheck & { csrfToken?: string; expiresAt?: string };

const KEY_PREFIX_OF = /^osk_([a-z0-9]{12})_/;

// Console sign-in: an API key is exchanged for a random session id kept in an HttpOnly cookie.
// Every request re-checks the key behind the session, so revoking, expiring or rotating the key
// out signs the console out at once.
@Injectable()
export class SessionService {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly keys: ApiKeysService,
    @Inject(GATEWAY_ENV) private readonly env: Pick<GatewayEnv, 'GATEWAY_SESSION_TTL_SECONDS' | 'GATEWAY_OPERATOR_TEAMS'>,
  ) {}

  get ttlSeconds(): number {
    return this.env.GATEWAY_SESSION_TTL_SECONDS;
  }

  async signIn(rawKey: string): Promise<OpenedSession> {
    const checked = await this.keys.check(rawKey);
    if ('failure' in checked) throw new AuthenticationError(checked.failure);
    const id = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.ttlSeconds * 1000).toISOString();
    const keyPrefix = KEY_PREFIX_OF.exec(rawKey)?.[1] ?? checked.principal.keyPrefix;
    await this.sessions.save(idHash(id), { keyPrefix, keyHash: hashKey(rawKey), csrfToken, expiresAt }, this.ttlSeconds);
    return { id, principal: checked.principal, csrfToken, expiresAt };
  }

  async resolve(id: string): Promise<ResolvedSession> {
    const record = await this.sessions.find(idHash(id));
    if (!record || Date.parse(record.expiresAt) <= Date.now()) return { failure: { teamId: null, keyPrefix: record?.keyPrefix ?? '', keyId: '' } };
    const checked = await this.keys.checkHash(record.keyPrefix, record.keyHash);
    // The key is gone (revoked, expired, rotated out): so is every session made from it.
    if ('failure' in checked) await this.sessions.delete(idHash(id));
    return { ...checked, csrfToken: record.csrfToken, expiresAt: record.expiresAt };
  }

  async signOut(id: string): Promise<void> {
    await this.sessions.delete(idHash(id));
  }

  // Cookie-authenticated writes must echo the token: another site can make the browser send the
  // cookie (not with SameSite=Strict, but defence in depth) yet cannot read the token.
  assertCsrf(expected: string | undefined, presented: string | undefined): void {
    const a = Buffer.from(expected ?? '');
    const b = Buffer.from(presented ?? '');
    if (a.length === 0 || a.length !== b.length || !timingSafeEqual(a, b)) {
      throw new AppError(ErrorCode.CSRF_TOKEN_INVALID, 'This console request lacks a valid X-CSRF-Token; reload the page (or sign in again) and retry');
    }
  }

  async view(principal: Principal, session?: { csrfToken?: string; expiresAt?: string }): Promise<SessionView> {
    const slug = this.env.GATEWAY_OPERATOR_TEAMS.length > 0 ? await this.keys.teamSlug(principal.teamId) : null;
    return {
      teamId: principal.teamId,
      keyId: principal.keyId,
      keyPrefix: principal.keyPrefix,
      role: principal.role,
      scopes: [...principal.scopes],
      operator: slug !== null && this.env.GATEWAY_OPERATOR_TEAMS.includes(slug),
      csrfToken: session?.csrfToken ?? null,
      expiresAt: session?.expiresAt ?? null,
    };
  }
}

function idHash(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}
