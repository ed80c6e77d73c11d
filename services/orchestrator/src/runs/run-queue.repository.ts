import { Inject, Injectable } from '@nestjs/common';
import { Events, orchestratorV1, runEventsSubject } from '@overskill/contracts';
import { encodeMessage, NATS_CONNECTION, publishDurable } from '@overskill/messaging';
import type { NatsConnection } from 'nats';

// JetStream and core-NATS I/O of runs.
@Injectable()
export class RunQueueRepository {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  // msg-id = run id: a retried publish is still one run.
  // The msg-id is the run id, so a repeated publish is dropped by JetStream's dedup window;
  // `attempt` makes it a request of its own (a repeated post queueing a run again).
  enqueue(run: { runId: string; appId: string; teamId: string }, attempt?: string): Promise<void> {
    return publishDurable(this.nc, Events.runRequested, run, { msgId: attempt ? `${run.runId}:${attempt}` : run.runId, tenantId: run.teamId });
  }

  // A fact for analytics; its own msg-id makes a retried publish one event.
  publishFinished(fact: {
    runId: string;
    appId: string;
    teamId: string;
    status: orchestratorV1.RunStatus;
    iterations: number;
    commitSha: string;
    errorCode: string;
  }): Promise<void> {
    return publishDurable(
      this.nc,
      Events.runFinished,
      { ...fact, occurredAt: new Date().toISOString() },
      { msgId: `run-finished-${fact.runId}`, tenantId: fact.teamId },
    );
  }

  publishProgress(event: { runId: string; seq: number; kind: string; summary: string; status: orchestratorV1.RunStatus; createdAt: string }): void {
    // The bus's own encoder (one buffer of the exact size): two of these go out every step.
    this.nc.publish(runEventsSubject(event.runId), encodeMessage(orchestratorV1.RunEventSchema, event));
  }
}
