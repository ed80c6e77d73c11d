import { fromBinary } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { orchestratorV1, Rpc, runEventsSubject } from '@overskill/contracts';
import { NATS_CONNECTION, NatsRpcClient } from '@overskill/messaging';
import type { NatsConnection } from 'nats';

export interface LiveRunEvents {
  close(): void;
}

// A run's events: live as the orchestrator publishes them (core NATS), and persisted, page by page.
@Injectable()
export class RunEventsRepository {
  constructor(
    private readonly rpc: NatsRpcClient,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  // Each event as it is published, in order; an event that cannot be read goes to onUnreadable.
  live(runId: string, onEvent: (event: orchestratorV1.RunEvent) => void, onUnreadable: () => void): LiveRunEvents {
    const sub = this.nc.subscribe(runEventsSubject(runId), {
      callback: (err, msg) => {
        if (err) return;
        let event: orchestratorV1.RunEvent;
        try {
          event = fromBinary(orchestratorV1.RunEventSchema, msg.data);
        } catch {
          onUnreadable();
          return;
        }
        onEvent(event);
      },
    });
    return { close: () => sub.unsubscribe() };
  }

  // The persisted events after afterSeq, oldest first; the run's status with them.
  list(teamId: string, runId: string, afterSeq: number, limit: number): Promise<orchestratorV1.RunEventsListResponse> {
    return this.rpc.send(Rpc.runEventsList, { teamId, runId, afterSeq, limit });
  }
}
