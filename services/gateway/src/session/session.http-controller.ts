import { Controller, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiRoute, parseRequest, ROUTES } from '../routing/routes';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { AuditableRequest, AuthenticatedRequest } from '../routing/request';
import { AuthenticationError } from '../routing/access';
import { clearedSessionCookie, sessionCookie } from './session-cookie';
import { SessionService } from './session.service';

const R = ROUTES;

@Controller()
@UseGuards(ApiKeyGuard)
export class SessionHttpController {
  constructor(private readonly sessions: SessionService) {}

  @ApiRoute(R.createSession)
  async createSession(@Req() req: AuditableRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const { body } = parseRequest(R.createSession, req);
    try {
      const opened = await this.sessions.signIn(body.key);
      // The audit row of the sign-in names the key that signed in.
      req.principal = opened.principal;
      void reply.header('set-cookie', sessionCookie(opened.id, this.sessions.ttlSeconds, req.protocol === 'https'));
      void reply.header('cache-control', 'no-store');
      return this.sessions.view(opened.principal, opened);
    } catch (error) {
      if (error instanceof AuthenticationError) req.authFailure = error.failure;
      throw error;
    }
  }

  @ApiRoute(R.getSession)
  async getSession(@Req() req: AuthenticatedRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    void reply.header('cache-control', 'no-store');
    return this.sessions.view(req.principal, req.session);
  }

  @ApiRoute(R.deleteSession)
  async deleteSession(@Req() req: AuthenticatedRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    if (req.session) await this.sessions.signOut(req.session.id);
    void reply.header('set-cookie', clearedSessionCookie(req.protocol === 'https'));
    return { signedOut: true as const };
  }
}
