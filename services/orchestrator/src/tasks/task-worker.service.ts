import { Inject, Injectable, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { Events } from '@overskill/contracts';
import { NATS_CONNECTION, startDurableConsumer, type RunningConsumer } from '@overskill/messaging';
import { LOGGER } from '@overskill/observability';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { GitHubDeliveriesService } from './github-deliveries.service';

// Takes deliveries from the TASKS stream; every replica joins the same durable consumer.
@Injectable()
export class TaskWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: RunningConsumer;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly deliveries: GitHubDeliveriesService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await startDurableConsumer({
      nc: this.nc,
      def: Events.githubDeliveryReceived,
      durable: 'orchestrator-task-deliveries',
      maxInFlight: 8,
      ackWaitMs: 30_000,
      logger: this.logger,
      handle: (message) => this.deliveries.process(message.deliveryId),
    });
  }

  // Before connections close: work in progress still reaches NATS and Postgres while it ends.
  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
