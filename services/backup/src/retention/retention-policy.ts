// Which backups expire. Pure, so it is tested with a simulated clock.

export interface RetentionCandidate {
  id: string;
  createdAt: Date;
  status: string;
  drillOk: boolean | null;
}

export interface RetentionPolicy {
  days: number;
  // Grandfather-father-son: the newest backup of each of the last N days, ISO weeks, months.
  gfs?: { daily: number; weekly: number; monthly: number };
}

const DAY_MS = 86_400_000;

function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  return `${t.getUTCFullYear()}-W${Math.ceil(((t.getTime() - yearStart) / DAY_MS + 1) / 7)}`;
}

// Returns the ids to delete. Never the newest backup that passed a drill, never the newest
// completed one, never a running one; failed rows (no archive) expire with age only.
export function expiredBackups(all: RetentionCandidate[], policy: RetentionPolicy, now: Date): string[] {
  const sorted = [...all].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const keep = new Set<string>();
  const newestDrilled = sorted.find((b) => b.status === 'completed' && b.drillOk === true);
  if (newestDrilled) keep.add(newestDrilled.id);
  const newestComplete = sorted.find((b) => b.status === 'completed');
  if (newestComplete) keep.add(newestComplete.id);
  for (const b of sorted) if (b.status === 'running') keep.add(b.id);
  if (policy.gfs) {
    const complete = sorted.filter((b) => b.status === 'completed');
    const buckets: [number, (d: Date) => string][] = [
      [policy.gfs.daily, (d) => d.toISOString().slice(0, 10)],
      [policy.gfs.weekly, isoWeek],
      [policy.gfs.monthly, (d) => d.toISOString().slice(0, 7)],
    ];
    for (const [count, bucketOf] of buckets) {
      const seen = new Set<string>();
      for (const b of complete) {
        const bucket = bucketOf(b.createdAt);
        if (seen.has(bucket)) continue;
        if (seen.size >= count) break;
        seen.add(bucket);
        keep.add(b.id);
      }
    }
  }
  const cutoff = now.getTime() - policy.days * DAY_MS;
  return sorted.filter((b) => !keep.has(b.id) && (b.createdAt.getTime() < cutoff || (policy.gfs !== undefined && b.status === 'completed'))).map((b) => b.id);
}
