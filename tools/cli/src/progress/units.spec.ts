import { parseDuration } from './units';

describe('parseDuration', () => {
  it('reads days, hours, minutes and seconds', () => {
    expect(parseDuration('7d', '--grace')).toBe(604_800);
    expect(parseDuration('12h', '--grace')).toBe(43_200);
    expect(parseDuration('30m', '--grace')).toBe(1800);
    expect(parseDuration('45s', '--grace')).toBe(45);
  });

  it.each(['', '7', 'd', '0d', '-1d', '1w', '1.5h'])('refuses %j with a usage error', (text) => {
    expect(() => parseDuration(text, '--grace')).toThrow('--grace takes a duration');
  });
});
