import { Inject, Injectable } from '@nestjs/common';
import { orchestratorV1, Rpc, runEventsSubject } from '@overskill/contracts';
import { NATS_CONNECTION, NatsRpcClient, subscribeDecoded, type DecodedSubscription } from '@overskill/messaging';
import type { NatsConnection } from 'nats';

// A run's events: live as the orchestrator publishes them (core NATS), and persisted, page by page.
@Injectable()
export class RunEventsRepository {
  constructor(
    private readonly rpc: NatsRpcClient,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  // Each event as it is published, in order; an event that cannot be read goes to onUnreadable.
  live(runId: string, onEvent: (event: orchestratorV1.RunEvent) => void, onUnreadable: () => void): DecodedSubscription {
    return subscribeDecoded(this.nc, runEventsSubject(runId), orchestratorV1.RunEventSchema, onEvent, onUnreadable);
  }

  // The persisted events after afterSeq, oldest first; the run's status with them.
  list(teamId: string, runId: string, afterSeq: number, limit: number): Promise<orchestratorV1.RunEventsListResponse> {
    return this.rpc.send(Rpc.runEventsList, { teamId, runId, afterSeq, limit });
  }
}
