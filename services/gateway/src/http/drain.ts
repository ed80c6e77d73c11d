import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { LOGGER } from '@overskill/observability';
import type { Logger } from 'pino';
import { GATEWAY_ENV, type GatewayEnv } from '../config';

// Graceful shutdown: runs before NATS, Postgres and Redis are closed (the gateway module is torn
// down first), so requests already in flight finish against live dependencies. New requests get
// 503 with Connection: close, event streams are ended (clients resume on another replica with
// Last-Event-ID), and the wait is bounded by GATEWAY_SHUTDOWN_DRAIN_MS.
@Injectable()
export class DrainController implements OnModuleDestroy {
  draining = false;
  private inFlight = 0;
  private idle?: () => void;
  private readonly streams = new Set<() => void>();

  constructor(
    @Inject(GATEWAY_ENV) private readonly env: GatewayEnv,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  started(): void {
    this.inFlight++;
  }

  finished(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (this.inFlight === 0) this.idle?.();
  }

  // An open event stream: ended at shutdown instead of waited for.
  trackStream(end: () => void): () => void {
    this.streams.add(end);
    return () => this.streams.delete(end);
  }

  async onModuleDestroy(): Promise<void> {
    this.draining = true;
    for (const end of this.streams) end();
    if (this.inFlight === 0) return;
    this.logger.info({ inFlight: this.inFlight }, 'draining in-flight requests');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.logger.warn({ inFlight: this.inFlight }, 'drain timeout; closing with requests still in flight');
        resolve();
      }, this.env.GATEWAY_SHUTDOWN_DRAIN_MS);
      this.idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
