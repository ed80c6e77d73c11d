import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { SERVICE_METRICS, type ServiceMetrics } from '@overskill/observability';
import { Counter } from 'prom-client';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import { factCount, parseCaptureBatch } from './capture-batch';
import { PreviewEventsRepository } from './preview-events.repository';
import { PreviewService } from './preview.service';
import { PreviewStoreRepository } from './preview-store.repository';

// A preview page's capture batch: from the preview's own origin only, rate-limited per preview,
// then published as facts.
@Injectable()
export class CaptureIngestService {
  private readonly captured: Counter<'kind'>;

  constructor(
    private readonly previews: PreviewService,
    private readonly store: PreviewStoreRepository,
    private readonly events: PreviewEventsRepository,
    @Inject(TOOL_RUNNER_ENV) private readonly env: Pick<ToolRunnerEnv, 'PREVIEW_INGEST_MAX_EVENTS' | 'PREVIEW_INGEST_RATE_PER_MINUTE'>,
    @Inject(SERVICE_METRICS) metrics: ServiceMetrics,
  ) {
    this.captured = new Counter({
      name: 'preview_captured_events_total',
      help: 'Preview capture events published as facts, by kind',
      labelNames: ['kind'],
      registers: [metrics.registry],
    });
  }

  async ingest(host: string | undefined, origin: string | undefined, body: string): Promise<{ accepted: number }> {
    const preview = await this.previews.resolve(host);
    // The page's own origin, as the browser states it; the internal check's plain-http origin
    // has the same host.
    if (!origin || !URL.canParse(origin) || new URL(origin).host !== (host ?? '').toLowerCase()) {
      throw new AppError(
        ErrorCode.PREVIEW_INGEST_REFUSED,
        'Capture batches are accepted only from the preview page itself (Origin must be the preview origin)',
      );
    }
    const facts = parseCaptureBatch(body, { maxEvents: this.env.PREVIEW_INGEST_MAX_EVENTS, origin: new URL(origin).origin, now: new Date() });
    const count = factCount(facts);
    const used = await this.store.countIngest(preview.address.previewId, count);
    if (used > this.env.PREVIEW_INGEST_RATE_PER_MINUTE) {
      throw new AppError(
        ErrorCode.RATE_LIMITED,
        `This preview sent more than ${this.env.PREVIEW_INGEST_RATE_PER_MINUTE} capture events this minute; later events are dropped until the next minute`,
      );
    }
    await this.events.publish(preview.owner, facts);
    this.captured.inc({ kind: 'console' }, facts.console.length);
    this.captured.inc({ kind: 'network' }, facts.network.length);
    this.captured.inc({ kind: 'pageview' }, facts.pageviews.length);
    return { accepted: count };
  }
}
