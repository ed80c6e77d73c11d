import { Inject, Injectable } from '@nestjs/common';
import { isEntityId } from '@overskill/contracts';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import { DevStateRepository } from '../preview/dev-server/dev-state.repository';

// Shared at most this often per app and replica (or a quarter of the idle stop, if shorter).
const WRITE_EVERY_MS = 5000;
// Apps remembered before the ones written longer ago than the interval are forgotten.
const MAX_TRACKED = 10_000;

// The agent working on an app keeps its dev-server preview from the idle stop. The idle stop
// counts minutes, so the time of the last tool call is written to Redis at most every few
// seconds per app, not once per call (a Redis round trip each).
@Injectable()
export class PreviewKeepAliveService {
  private readonly written = new Map<string, number>();
  private readonly everyMs: number;

  constructor(
    private readonly state: DevStateRepository,
    @Inject(TOOL_RUNNER_ENV) env: Pick<ToolRunnerEnv, 'PREVIEW_IDLE_STOP_MS'>,
  ) {
    this.everyMs = Math.min(WRITE_EVERY_MS, env.PREVIEW_IDLE_STOP_MS / 4);
  }

  touch(appId: string, now = Date.now()): void {
    if (!isEntityId(appId)) return;
    const last = this.written.get(appId);
    if (last !== undefined && now - last < this.everyMs) return;
    if (last === undefined && this.written.size >= MAX_TRACKED) this.forgetBefore(now - this.everyMs);
    this.written.set(appId, now);
    void this.state.touch(appId, now).catch(() => undefined);
  }

  private forgetBefore(cutoff: number): void {
    for (const [appId, at] of this.written) if (at < cutoff) this.written.delete(appId);
  }
}
