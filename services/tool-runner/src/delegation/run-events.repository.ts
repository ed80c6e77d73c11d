import { create, toBinary } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { Events, orchestratorV1, runEventsSubject } from '@overskill/contracts';
import { NATS_CONNECTION, publishDurable } from '@overskill/messaging';
import type { NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';

export interface ToolExecutedFacts {
  teamId: string;
  appId: string;
  runId: string;
  toolUseId: string;
  tool: string;
  outcome: string;
  durationMs: number;
  bytesWritten: bigint;
  outputBytes: bigint;
  outputTruncated: boolean;
}

// What tool-runner tells the rest of the platform: live notes on a run's event stream, and one
// durable `tool.executed.v1` fact per execution on the EVENTS stream.
@Injectable()
export class RunEventsRepository {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  // Core NATS, like the orchestrator's step events; seq 0 marks a live-only note (the tool call
  // itself is persisted as a run step by the orchestrator).
  broadcastProgress(runId: string, message: string): void {
    const event = create(orchestratorV1.RunEventSchema, {
      runId,
      seq: 0,
      kind: 'progress',
      summary: message,
      status: orchestratorV1.RunStatus.RUNNING,
      createdAt: new Date().toISOString(),
    });
    this.nc.publish(runEventsSubject(runId), toBinary(orchestratorV1.RunEventSchema, event));
  }

  // msg-id = the event id, so a retried publish is stored once.
  async toolExecuted(facts: ToolExecutedFacts): Promise<string> {
    const eventId = randomUUID();
    await publishDurable(
      this.nc,
      Events.toolExecuted,
      { ...facts, eventId, occurredAt: new Date().toISOString() },
      { msgId: eventId, tenantId: facts.teamId || undefined },
    );
    return eventId;
  }
}
