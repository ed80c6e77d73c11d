import { create, toBinary } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { aiV1, AppError, ErrorCode } from '@overskill/contracts';
import { NATS_CONNECTION } from '@overskill/messaging';
import type { NatsConnection } from 'nats';

export interface ChunkSink {
  readonly sent: number;
  send(event: string, data: unknown): void;
}

// The caller names where the chunks go; only the registry's chunk subjects are accepted, so a
// request can never make ai-router publish onto another service's subjects.
const CHUNK_SUBJECT = /^aistream\.chunk\.[A-Za-z0-9_-]{8,64}$/;

@Injectable()
export class StreamChunkPublisher {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  open(subject: string): ChunkSink {
    if (!CHUNK_SUBJECT.test(subject)) throw new AppError(ErrorCode.AI_REQUEST_INVALID, 'chunk_subject must come from aiStreamChunkSubject()');
    let seq = 0;
    const nc = this.nc;
    return {
      get sent() {
        return seq;
      },
      send(event, data) {
        // Core NATS keeps one publisher's order on one subject.
        nc.publish(subject, toBinary(aiV1.StreamChunkSchema, create(aiV1.StreamChunkSchema, { seq: seq++, event, dataJson: JSON.stringify(data) })));
      },
    };
  }
}
