export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerSettings {
  failureThreshold: number;
  openMs: number;
}

// One model's breaker: `failureThreshold` failures in a row open it; after `openMs` one probe
// is let through (half-open); the probe's success closes it, its failure opens it again.
export class CircuitBreaker {
  private stateValue: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probeInFlight = false;

  constructor(
    private settings: BreakerSettings,
    private readonly now: () => number = Date.now,
  ) {}

  configure(settings: BreakerSettings): void {
    this.settings = settings;
  }

  get state(): BreakerState {
    if (this.stateValue === 'open' && this.now() - this.openedAt >= this.settings.openMs) this.stateValue = 'half_open';
    return this.stateValue;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  get openedSince(): Date | undefined {
    return this.stateValue === 'closed' ? undefined : new Date(this.openedAt);
  }

  /** May a call go to this model now? In half-open, only one probe at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probeInFlight) return false;
    this.probeInFlight = true;
    return true;
  }

  onSuccess(): void {
    this.failures = 0;
    this.probeInFlight = false;
    this.stateValue = 'closed';
  }

  onFailure(): void {
    this.failures += 1;
    const wasProbe = this.probeInFlight;
    this.probeInFlight = false;
    if (wasProbe || this.failures >= this.settings.failureThreshold) {
      this.stateValue = 'open';
      this.openedAt = this.now();
    }
  }

  /** A call that ended without telling us anything about the model's health (e.g. a bad request). */
  onNeutral(): void {
    this.probeInFlight = false;
  }
}
