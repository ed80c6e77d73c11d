import { Injectable } from '@nestjs/common';
import { startOfUtcDay } from './run-budget';
import { RunsRepository } from './runs.repository';

// How long one read of a team's spend today serves every run of the team on this replica.
export const TEAM_SPEND_MAX_AGE_MS = 1000;
// Past this many teams, entries older than the max age are dropped on the next read.
const PRUNE_AT = 1000;

interface Entry {
  day: number;
  readAt: number;
  usd: Promise<number>;
}

// The team's spend today (the daily budget's input). A run's first figure comes with its claim, or
// else is read afresh here (so a run sees every run that finished before it started); its later
// checks share one read per team and second on this replica: a hundred concurrent runs of one team
// make one read a second instead of a hundred. Concurrent asks while a read is in flight join it.
@Injectable()
export class TeamSpendCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly runs: RunsRepository) {}

  async read(teamId: string, fresh = false, now = Date.now()): Promise<{ usd: number; readAt: number }> {
    const day = startOfUtcDay(new Date(now)).getTime();
    let entry = this.entries.get(teamId);
    if (fresh || !entry || entry.day !== day || now - entry.readAt > TEAM_SPEND_MAX_AGE_MS) {
      if (this.entries.size >= PRUNE_AT) this.prune(now);
      const usd = this.runs.teamSpendOn(teamId, new Date(day));
      entry = { day, readAt: now, usd };
      this.entries.set(teamId, entry);
      // A failed read is not kept: the next ask reads again.
      const failed = entry;
      usd.catch(() => {
        if (this.entries.get(teamId) === failed) this.entries.delete(teamId);
      });
    }
    return { usd: await entry.usd, readAt: entry.readAt };
  }

  private prune(now: number): void {
    for (const [teamId, entry] of this.entries) if (now - entry.readAt > TEAM_SPEND_MAX_AGE_MS) this.entries.delete(teamId);
  }
}
