import { Inject, Injectable } from '@nestjs/common';
import { Webhooks } from '@octokit/webhooks';
import { AppError, ErrorCode } from '@overskill/contracts';
import type { IncomingHttpHeaders } from 'node:http';
import { parseInput } from '../routing/routes';
import { GitHubWebhookPayload } from '../routing/schemas';
import { GATEWAY_ENV, type GatewayEnv } from '../config';
import { GitHubDeliveriesRepository } from './github-deliveries.repository';

const SUPPORTED_EVENTS = new Set(['issues', 'issue_comment', 'pull_request_review', 'pull_request_review_comment']);
const DELIVERY_ID = /^[A-Za-z0-9-]{1,64}$/;
const SIGNATURE = /^sha256=[0-9a-f]{64}$/;

// The webhook's only work before answering: the signature on the exact body bytes (constant
// time, in @octokit/webhooks), the headers and the payload's shape, then one request to the
// orchestrator, which records the delivery and queues it on JetStream.
@Injectable()
export class GitHubWebhookService {
  private readonly verifiers: Webhooks[];

  constructor(
    @Inject(GATEWAY_ENV) env: Pick<GatewayEnv, 'GITHUB_WEBHOOK_SECRET'>,
    private readonly deliveries: GitHubDeliveriesRepository,
  ) {
    this.verifiers = env.GITHUB_WEBHOOK_SECRET.map((secret) => new Webhooks({ secret }));
  }

  async receive(
    headers: IncomingHttpHeaders,
    rawBody: Buffer | undefined,
    body: unknown,
  ): Promise<{ deliveryId: string; queued: boolean; duplicate: boolean }> {
    const header = (name: string) => {
      const value = headers[name];
      return typeof value === 'string' ? value : '';
    };
    const event = header('x-github-event');
    const deliveryId = header('x-github-delivery');
    const signature = header('x-hub-signature-256');
    const missing = [
      ['X-GitHub-Event', event],
      ['X-GitHub-Delivery', deliveryId],
      ['X-Hub-Signature-256', signature],
    ].flatMap(([name, value]) => (value ? [] : [name]));
    if (missing.length > 0)
      throw new AppError(
        ErrorCode.VALIDATION_FAILED,
        `Missing header${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; this endpoint takes GitHub webhook deliveries`,
      );
    if (this.verifiers.length === 0)
      throw new AppError(ErrorCode.WEBHOOK_NOT_CONFIGURED, 'GitHub webhooks are not configured on this gateway (GITHUB_WEBHOOK_SECRET)');
    if (!DELIVERY_ID.test(deliveryId))
      throw new AppError(ErrorCode.VALIDATION_FAILED, 'X-GitHub-Delivery must be a delivery id (letters, digits, dashes; at most 64)');
    if (!rawBody || rawBody.length === 0)
      throw new AppError(ErrorCode.VALIDATION_FAILED, 'The body must be the JSON payload (set the webhook content type to application/json)');
    if (!SIGNATURE.test(signature) || !(await this.verified(rawBody.toString('utf8'), signature))) {
      throw new AppError(
        ErrorCode.WEBHOOK_SIGNATURE_INVALID,
        'X-Hub-Signature-256 does not match the body; check that the webhook secret is one of GITHUB_WEBHOOK_SECRET',
      );
    }
    if (event === 'ping') return { deliveryId, queued: false, duplicate: false };
    if (!SUPPORTED_EVENTS.has(event)) {
      throw new AppError(
        ErrorCode.WEBHOOK_EVENT_UNSUPPORTED,
        `Event ${event.slice(0, 50)} is not handled; subscribe the webhook to issues, issue comments and pull request reviews only`,
      );
    }
    const payload = parseInput(GitHubWebhookPayload, body, 'body');
    const ingested = await this.deliveries.ingest({
      deliveryId,
      event,
      action: payload.action ?? '',
      repository: payload.repository.full_name,
      payloadJson: rawBody.toString('utf8'),
    });
    return { deliveryId, queued: !ingested.duplicate, duplicate: ingested.duplicate };
  }

  private async verified(body: string, signature: string): Promise<boolean> {
    for (const verifier of this.verifiers) if (await verifier.verify(body, signature)) return true;
    return false;
  }
}
