import { Injectable } from '@nestjs/common';
import type { HealthIndicator } from './health-indicator';

/** The dependencies /health/ready checks; each feature registers its own (postgres, redis, nats, …). */
@Injectable()
export class HealthRegistry {
  private readonly indicators = new Map<string, HealthIndicator>();

  register(indicator: HealthIndicator): void {
    // Two checks under one name would hide each other in the report and the dependency gauge.
    if (this.indicators.has(indicator.name)) {
      throw new Error(`health indicator "${indicator.name}" is already registered`);
    }
    this.indicators.set(indicator.name, indicator);
  }

  list(): HealthIndicator[] {
    return [...this.indicators.values()];
  }
}
