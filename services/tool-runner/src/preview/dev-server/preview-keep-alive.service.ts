import { Inject, Injectable } from '@nestjs/common';
import { isEntityId } from '@overskill/contracts';
import { DEV_SETTINGS, type DevSettings } from './dev-settings';
import { DevStateRepository } from './dev-state.repository';

// Shared at most this often per app and replica (or a quarter of the idle stop, if shorter).
const WRITE_EVERY_MS = 5000;
// Apps remembered before the ones written longer ago than the interval are forgotten.
const MAX_TRACKED = 10_000;

// Views and the agent's tool calls keep an app's dev-server preview from the idle stop, on
// whichever replica runs it. The idle stop counts minutes, so the time of the last one is written
// to Redis at most every few seconds per app, not once each (a Redis round trip each).
@Injectable()
export class PreviewKeepAliveService {
  private readonly written = new Map<string, number>();
  private readonly everyMs: number;

  constructor(
    private readonly state: DevStateRepository,
    @Inject(DEV_SETTINGS) settings: Pick<DevSettings, 'idleStopMs'>,
  ) {
    this.everyMs = Math.min(WRITE_EVERY_MS, settings.idleStopMs / 4);
  }

  // `force`: written now whatever the interval (a restart).
  touch(appId: string, now = Date.now(), force = false): void {
    if (!isEntityId(appId)) return;
    const last = this.written.get(appId);
    if (!force && last !== undefined && now - last < this.everyMs) return;
    if (last === undefined && this.written.size >= MAX_TRACKED) this.forgetBefore(now - this.everyMs);
    this.written.set(appId, now);
    void this.state.touch(appId, now).catch(() => undefined);
  }

  private forgetBefore(cutoff: number): void {
    for (const [appId, at] of this.written) if (at < cutoff) this.written.delete(appId);
  }
}
