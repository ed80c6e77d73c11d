import { Controller, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiRoute, ROUTES } from '../routing/routes';
import { GitHubWebhookService } from './github-webhook.service';

// No key guard: GitHub signs the body instead.
@Controller()
export class GitHubWebhookHttpController {
  constructor(private readonly webhooks: GitHubWebhookService) {}

  @ApiRoute(ROUTES.githubWebhook)
  receive(@Req() req: FastifyRequest & { rawBody?: Buffer }) {
    return this.webhooks.receive(req.headers, req.rawBody, req.body);
  }
}
