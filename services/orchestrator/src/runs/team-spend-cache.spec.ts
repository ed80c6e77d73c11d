import type { RunsRepository } from './runs.repository';
import { TeamSpendCache } from './team-spend-cache';

describe('TeamSpendCache', () => {
  let reads: Array<{ teamId: string; day: string }>;
  let answer: () => Promise<number>;
  let cache: TeamSpendCache;

  beforeEach(() => {
    reads = [];
    answer = async () => 3;
    const runs = {
      teamSpendOn: jest.fn((teamId: string, day: Date) => {
        reads.push({ teamId, day: day.toISOString() });
        return answer();
      }),
    } as unknown as RunsRepository;
    cache = new TeamSpendCache(runs);
  });

  const at = (iso: string) => new Date(iso).getTime();

  it('serves every run of a team from one read for a second, concurrent asks included', async () => {
    const t0 = at('2026-12-05T10:00:00.000Z');
    const [a, b] = await Promise.all([cache.read('team-1', false, t0), cache.read('team-1', false, t0 + 10)]);
    expect(a).toEqual({ usd: 3, readAt: t0 });
    expect(b).toEqual({ usd: 3, readAt: t0 });
    await cache.read('team-1', false, t0 + 1000);
    await cache.read('team-2', false, t0 + 1000);
    expect(reads).toEqual([
      { teamId: 'team-1', day: '2026-12-05T00:00:00.000Z' },
      { teamId: 'team-2', day: '2026-12-05T00:00:00.000Z' },
    ]);
    answer = async () => 4;
    expect(await cache.read('team-1', false, t0 + 1001)).toEqual({ usd: 4, readAt: t0 + 1001 });
    expect(reads).toHaveLength(3);
  });

  it('reads afresh when asked (a run’s first figure), and shares that read with the later asks', async () => {
    const t0 = at('2026-12-05T10:00:00.000Z');
    await cache.read('team-1', false, t0);
    answer = async () => 7;
    expect(await cache.read('team-1', true, t0 + 100)).toEqual({ usd: 7, readAt: t0 + 100 });
    expect(await cache.read('team-1', false, t0 + 200)).toEqual({ usd: 7, readAt: t0 + 100 });
    expect(reads).toHaveLength(2);
  });

  it('reads again on a new UTC day, and after a failed read', async () => {
    const late = at('2026-12-05T23:59:59.900Z');
    await cache.read('team-1', false, late);
    await cache.read('team-1', false, late + 200);
    expect(reads.map((r) => r.day)).toEqual(['2026-12-05T00:00:00.000Z', '2026-12-06T00:00:00.000Z']);

    answer = async () => Promise.reject(new Error('database down'));
    await expect(cache.read('team-3', false, late)).rejects.toThrow('database down');
    answer = async () => 1;
    await expect(cache.read('team-3', false, late + 1)).resolves.toEqual({ usd: 1, readAt: late + 1 });
  });
});
