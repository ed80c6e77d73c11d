import type { MessageInitShape } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { aiStreamChunkSubject, aiV1, Rpc } from '@overskill/contracts';
import { NATS_CONNECTION, NatsRpcClient, subscribeDecoded } from '@overskill/messaging';
import type { NatsConnection } from 'nats';
import { randomBytes } from 'node:crypto';

export type CompletionRequestInit = MessageInitShape<typeof aiV1.CompletionRequestSchema>;

// Long enough for the router's whole attempt budget (its own timeouts end a call first).
const COMPLETION_TIMEOUT_MS = 10 * 60_000;

export interface OpenStream {
  // Settles with the router's reply: after its last chunk was published, or with its error.
  reply: Promise<void>;
  // Stops taking chunks (idempotent).
  close(): void;
}

// ai-router over NATS: the model calls of the Anthropic-compatible endpoint and the operators'
// views of the router. Routing, keys, limits and accounting are ai-router's.
@Injectable()
export class AiRouterRepository {
  constructor(
    private readonly rpc: NatsRpcClient,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
  ) {}

  complete(request: CompletionRequestInit, tenantId: string): Promise<aiV1.CompletionResponse> {
    return this.rpc.send(Rpc.aiCompletionCreate, request, { timeoutMs: COMPLETION_TIMEOUT_MS, tenantId });
  }

  // A streamed call: ai-router publishes its chunks on a subject of this call's own, taken before
  // the request leaves, so none is missed. Core NATS keeps their order; a gap shows in their seq.
  stream(request: CompletionRequestInit, tenantId: string, onChunk: (chunk: aiV1.StreamChunk) => void): OpenStream {
    const subject = aiStreamChunkSubject(randomBytes(16).toString('base64url'));
    // An unreadable chunk is skipped: the next chunk's seq shows the gap, or the stream ends without its stop.
    const live = subscribeDecoded(this.nc, subject, aiV1.StreamChunkSchema, onChunk);
    const reply = this.rpc
      .send(Rpc.aiCompletionStream, { request, chunkSubject: subject }, { timeoutMs: COMPLETION_TIMEOUT_MS, tenantId })
      .then(() => undefined);
    return { reply, close: live.close };
  }

  status(): Promise<aiV1.RouterStatusResponse> {
    return this.rpc.send(Rpc.aiRouterStatus, {});
  }

  cacheStats(): Promise<aiV1.CacheStatsResponse> {
    return this.rpc.send(Rpc.aiCacheStats, {});
  }

  usageSummary(teamId: string, day: string): Promise<aiV1.UsageSummaryResponse> {
    return this.rpc.send(Rpc.aiUsageSummary, { teamId, day });
  }

  switchModel(alias: string): Promise<aiV1.ModelSwitchResponse> {
    return this.rpc.send(Rpc.aiModelSwitch, { alias });
  }
}
