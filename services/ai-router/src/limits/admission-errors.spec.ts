import { utcDay } from './admission-errors';

describe('utcDay', () => {
  it('names the UTC day of the moment, also across midnight and back', () => {
    const midnight = Date.UTC(2026, 11, 7);
    expect(utcDay(midnight - 1)).toBe('2026-12-06');
    expect(utcDay(midnight)).toBe('2026-12-07');
    expect(utcDay(midnight + 86_400_000 - 1)).toBe('2026-12-07');
    expect(utcDay(midnight + 86_400_000)).toBe('2026-12-08');
    // A clock set back: the day it is again, not the one last asked for.
    expect(utcDay(midnight - 1)).toBe('2026-12-06');
    expect(utcDay(Date.UTC(1969, 11, 31, 23))).toBe('1969-12-31');
  });

  it('is today by default', () => {
    expect(utcDay()).toBe(new Date().toISOString().slice(0, 10));
  });
});
