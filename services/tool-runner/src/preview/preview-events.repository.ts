import { Inject, Injectable } from '@nestjs/common';
import { Events } from '@overskill/contracts';
import { NATS_CONNECTION, publishDurable } from '@overskill/messaging';
import type { NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import type { CaptureFacts } from './capture-batch';
import type { PreviewOwner } from './preview-store.repository';

// The preview's telemetry as facts on the EVENTS stream (analytics stores them; the agent's
// read tools query them). msg-id = a fresh id per fact, so a retried publish is stored once.
@Injectable()
export class PreviewEventsRepository {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async publish(owner: PreviewOwner, facts: CaptureFacts): Promise<void> {
    const opts = () => ({ msgId: randomUUID(), tenantId: owner.teamId });
    await Promise.all([
      ...facts.console.map((f) => publishDurable(this.nc, Events.previewConsoleLogged, { ...owner, ...f }, opts())),
      ...facts.network.map((f) => publishDurable(this.nc, Events.previewNetworkRequested, { ...owner, ...f }, opts())),
      ...facts.pageviews.map((f) => publishDurable(this.nc, Events.previewPageViewed, { ...owner, ...f }, opts())),
    ]);
  }
}
