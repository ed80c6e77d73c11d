import { AppError } from '@overskill/contracts';
import type { AiUsageCell, AiUsageRepository } from './ai-usage.repository';
import { AiUsageService } from './ai-usage.service';

// The service with a small fake for its repository: the range checks, zero days, app totals.
describe('AiUsageService', () => {
  const team = '6f0e7f4c-1d2b-4c3a-9e8f-0a1b2c3d4e5f';
  let cells: AiUsageCell[];
  let daily: jest.Mock;
  let service: AiUsageService;
  const cell = (day: string, appId: string | null, requests: number, costUsd: number): AiUsageCell => ({
    day,
    appId,
    requests,
    inputTokens: requests * 10,
    outputTokens: requests,
    cacheReadInputTokens: 0,
    cacheCreationInputTokens: 0,
    costUsd,
  });

  beforeEach(() => {
    cells = [];
    daily = jest.fn(async () => cells);
    service = new AiUsageService({ daily } as unknown as AiUsageRepository);
  });

  it('asks for the whole last day and answers every day of the range, zeros included', async () => {
    cells = [cell('2026-01-30', 'a', 2, 0.5), cell('2026-02-01', 'b', 1, 2), cell('2026-02-01', null, 3, 0.25)];
    const r = await service.daily({ teamId: team, from: '2026-01-30', to: '2026-02-01' } as never);
    expect(daily).toHaveBeenCalledWith(team, new Date('2026-01-30T00:00:00Z'), new Date('2026-02-02T00:00:00Z'));
    expect(r.days!.map((d) => [d.day, Number(d.totals?.requests), d.totals?.costUsd])).toEqual([
      ['2026-01-30', 2, 0.5],
      ['2026-01-31', 0, 0],
      ['2026-02-01', 4, 2.25],
    ]);
    expect(r.apps!.map((a) => [a.appId, a.totals?.costUsd])).toEqual([
      ['b', 2],
      ['a', 0.5],
      ['', 0.25],
    ]);
    expect(Number(r.totals?.requests)).toBe(6);
    expect(r.cells).toHaveLength(3);
  });

  it.each([
    ['a team id that is not one', { teamId: 'x', from: '2026-01-01', to: '2026-01-02' }, /team_id/],
    ['a day off the calendar', { teamId: team, from: '2026-02-30', to: '2026-03-01' }, /calendar day/],
    ['an empty day', { teamId: team, from: '', to: '2026-03-01' }, /from must be/],
    ['from after to', { teamId: team, from: '2026-03-02', to: '2026-03-01' }, /after/],
    ['93 days', { teamId: team, from: '2026-01-01', to: '2026-04-03' }, /at most 92/],
  ])('refuses %s without querying', async (_what, req, message) => {
    await expect(service.daily(req as never)).rejects.toThrow(AppError);
    await expect(service.daily(req as never)).rejects.toThrow(message);
    expect(daily).not.toHaveBeenCalled();
  });

  it('takes 92 days', async () => {
    const r = await service.daily({ teamId: team, from: '2026-01-01', to: '2026-04-02' } as never);
    expect(r.days).toHaveLength(92);
  });
});
