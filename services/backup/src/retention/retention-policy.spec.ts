import { expiredBackups, type RetentionCandidate } from './retention-policy';

const DAY = 86_400_000;
const now = new Date('2026-12-04T12:00:00Z');
const ago = (days: number) => new Date(now.getTime() - days * DAY);

function backup(id: string, daysAgo: number, extra: Partial<RetentionCandidate> = {}): RetentionCandidate {
  return { id, createdAt: ago(daysAgo), status: 'completed', drillOk: null, ...extra };
}

describe('retention policy (simulated clock)', () => {
  it('expires completed and failed backups older than the retention days', () => {
    const all = [backup('new', 1), backup('edge', 29.9), backup('old', 31), backup('older', 45), backup('failed-old', 40, { status: 'failed' })];
    expect(expiredBackups(all, { days: 30 }, now).sort()).toEqual(['failed-old', 'old', 'older']);
  });

  it('never deletes the newest backup that passed a drill, however old', () => {
    const all = [
      backup('recent-undrilled', 2),
      backup('drilled', 50, { drillOk: true }),
      backup('drilled-older', 60, { drillOk: true }),
      backup('failed-drill', 40, { drillOk: false }),
    ];
    expect(expiredBackups(all, { days: 30 }, now).sort()).toEqual(['drilled-older', 'failed-drill']);
  });

  it('keeps the newest completed backup even when every backup is past the limit, and any running one', () => {
    const all = [backup('a', 40), backup('b', 50), backup('running', 45, { status: 'running' })];
    expect(expiredBackups(all, { days: 30 }, now)).toEqual(['b']);
  });

  it('as the clock moves on, the same set expires step by step', () => {
    const all = [backup('d0', 0), backup('d10', 10), backup('d20', 20)];
    const at = (days: number) => expiredBackups(all, { days: 30 }, new Date(now.getTime() + days * DAY)).sort();
    expect(at(0)).toEqual([]);
    expect(at(10.5)).toEqual(['d20']);
    expect(at(20.5)).toEqual(['d10', 'd20']);
    // d0 is now the newest completed backup: kept however old.
    expect(at(400)).toEqual(['d10', 'd20']);
  });

  it('with grandfather-father-son keeps the newest of 7 days, 4 weeks and 12 months and nothing else', () => {
    // Four backups a day for 400 days.
    const all: RetentionCandidate[] = [];
    for (let h = 0; h < 400 * 24; h += 6) all.push(backup(`h${h}`, h / 24 + 0.01));
    const expired = new Set(expiredBackups(all, { days: 30, gfs: { daily: 7, weekly: 4, monthly: 12 } }, now));
    const kept = all.filter((b) => !expired.has(b.id));
    const days = new Set(kept.map((b) => b.createdAt.toISOString().slice(0, 10)));
    const months = new Set(kept.map((b) => b.createdAt.toISOString().slice(0, 7)));
    expect(kept.length).toBeLessThanOrEqual(7 + 4 + 12);
    expect(kept.length).toBeGreaterThanOrEqual(12);
    expect(months.size).toBe(12);
    // The newest backup of each of the last 7 days is kept.
    for (let d = 0; d < 7; d += 1)
      expect(
        days.has(
          ago(d + 0.01)
            .toISOString()
            .slice(0, 10),
        ),
      ).toBe(true);
    expect(kept[0].id).toBe('h0');
  });
});
