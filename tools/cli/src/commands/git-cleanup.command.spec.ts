import { parseDuration } from './git-cleanup.command';

describe('parseDuration', () => {
  it('reads days, hours, minutes and seconds', () => {
    expect(parseDuration('7d')).toBe(604_800);
    expect(parseDuration('12h')).toBe(43_200);
    expect(parseDuration('30m')).toBe(1800);
    expect(parseDuration('45s')).toBe(45);
  });

  it.each(['', '7', 'd', '0d', '-1d', '1w', '1.5h'])('refuses %j with a usage error', (text) => {
    expect(() => parseDuration(text)).toThrow('--grace takes a duration');
  });
});
