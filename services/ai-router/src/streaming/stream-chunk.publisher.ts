import { create, toBinary } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { aiV1, AppError, ErrorCode } from '@overskill/contracts';
import { NATS_CONNECTION } from '@overskill/messaging';
import type { NatsConnection } from 'nats';

export interface ChunkSink {
  // Chunks sent so far, published or about to be.
  readonly sent: number;
  send(event: string, data: unknown): void;
  // Publishes what is pending now: before the reply, so the reply never overtakes the last chunks.
  flush(): void;
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
    let pending: Uint8Array[] = [];
    const nc = this.nc;
    // The events a provider sends in one packet are parsed in one turn of the event loop; they go
    // out together at its end, so nats-server, the gateway and the client each handle them in one
    // read and one write instead of one per event. Nothing waits for a later packet.
    let failed: unknown;
    const flush = () => {
      if (failed !== undefined) throw failed;
      const batch = pending;
      pending = [];
      // Core NATS keeps one publisher's order on one subject.
      for (const data of batch) nc.publish(subject, data);
    };
    // A publish that fails here (the connection closed) fails the stream at its next chunk or flush.
    const flushLater = () => {
      try {
        flush();
      } catch (err) {
        failed ??= err;
      }
    };
    return {
      get sent() {
        return seq;
      },
      send(event, data) {
        if (failed !== undefined) throw failed;
        pending.push(toBinary(aiV1.StreamChunkSchema, create(aiV1.StreamChunkSchema, { seq: seq++, event, dataJson: JSON.stringify(data) })));
        if (pending.length === 1) setImmediate(flushLater);
      },
      flush,
    };
  }
}
