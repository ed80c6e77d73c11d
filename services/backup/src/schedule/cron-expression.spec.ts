import { CronExpression } from './cron-expression';

describe('cron expressions (UTC)', () => {
  it('matches the seed schedule: full daily at 02:00, database every 6 hours, drill weekly', () => {
    const full = new CronExpression('0 2 * * *');
    expect(full.matches(new Date('2026-12-04T02:00:00Z'))).toBe(true);
    expect(full.matches(new Date('2026-12-04T02:01:00Z'))).toBe(false);
    const db = new CronExpression('0 */6 * * *');
    expect(['00', '06', '12', '18'].every((h) => db.matches(new Date(`2026-12-04T${h}:00:00Z`)))).toBe(true);
    expect(db.matches(new Date('2026-12-04T03:00:00Z'))).toBe(false);
    const drill = new CronExpression('0 4 * * 0');
    expect(drill.matches(new Date('2026-12-06T04:00:00Z'))).toBe(true); // a Sunday
    expect(drill.matches(new Date('2026-12-05T04:00:00Z'))).toBe(false);
  });

  it('finds the latest due minute in a window, or none', () => {
    const db = new CronExpression('0 */6 * * *');
    expect(db.latestBetween(new Date('2026-12-04T11:50:00Z'), new Date('2026-12-04T12:00:30Z'))?.toISOString()).toBe('2026-12-04T12:00:00.000Z');
    expect(db.latestBetween(new Date('2026-12-04T12:00:00Z'), new Date('2026-12-04T12:09:00Z'))).toBeNull();
  });

  it('supports lists, ranges, steps and Sunday as 7; rejects what it does not understand', () => {
    const c = new CronExpression('15,45 9-17/4 1 1-3 7');
    expect(c.matches(new Date('2026-01-01T13:45:00Z'))).toBe(true); // day of month 1 matches (either field)
    expect(c.matches(new Date('2026-01-04T09:15:00Z'))).toBe(true); // a Sunday
    expect(c.matches(new Date('2026-01-05T09:15:00Z'))).toBe(false);
    expect(() => new CronExpression('0 2 * *')).toThrow(/5 fields/);
    expect(() => new CronExpression('61 * * * *')).toThrow(/minute/);
    expect(() => new CronExpression('0 2 * * mon')).toThrow(/day of week/);
  });
});
