import { Inject, Injectable, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { Events } from '@overskill/contracts';
import { NATS_CONNECTION, startDurableConsumer, type RunningConsumer } from '@overskill/messaging';
import { LOGGER } from '@overskill/observability';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import { AgentLoopService } from './agent-loop.service';

// Takes runs from the RUNS stream: every replica joins the same durable consumer, so they
// share the work, each with a bounded number in flight.
@Injectable()
export class RunWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: RunningConsumer;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(ORCHESTRATOR_ENV) private readonly env: OrchestratorEnv,
    private readonly loop: AgentLoopService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await startDurableConsumer({
      nc: this.nc,
      def: Events.runRequested,
      durable: 'orchestrator-runs',
      maxInFlight: this.env.RUN_CONCURRENCY,
      ackWaitMs: this.env.RUN_ACK_WAIT_MS,
      logger: this.logger,
      handle: (message, raw) => this.loop.execute(message.runId, raw.info.deliveryCount),
    });
  }

  // Before connections close: running handlers still reach NATS and Postgres while they finish.
  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
