import { reportRange } from './report-range';

describe('reportRange', () => {
  const team = '11111111-1111-4111-8111-111111111111';

  it('reads a month, a range, or the last 30 days, for a team or every team', () => {
    expect(reportRange({ month: '2024-02' }, 'r', 92)).toMatchObject({ from: '2024-02-01', to: '2024-02-29', teamId: '' });
    expect(reportRange({ from: '2026-05-01', to: '2026-05-03', team }, 'r', 92)).toEqual({
      from: '2026-05-01',
      to: '2026-05-03',
      teamId: team,
      days: ['2026-05-01', '2026-05-02', '2026-05-03'],
    });
    const last = reportRange({}, 'r', 92);
    expect(last.days).toHaveLength(30);
    expect(last.to).toBe(new Date().toISOString().slice(0, 10));
  });

  it.each([
    [{ from: '2026-13-01' }, /r: --from takes a calendar day as YYYY-MM-DD, got "2026-13-01"/],
    [{ to: '2026-02-30' }, /--to takes a calendar day/],
    [{ from: '2026-05-03', to: '2026-05-01' }, /--from 2026-05-03 is after --to 2026-05-01/],
    [{ from: '2026-01-01', to: '2026-06-01' }, /covers 152 days; at most 92/],
    [{ month: '2026-5' }, /--month takes YYYY-MM/],
    [{ month: '2026-05', from: '2026-05-01' }, /give --month or --from\/--to, not both/],
    [{ team: 'acme' }, /--team takes a team id \(uuid\), got "acme"/],
  ])('refuses %j', (values, message) => {
    expect(() => reportRange(values, 'r', 92)).toThrow(message);
  });
});
