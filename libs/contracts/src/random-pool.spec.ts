import { RandomPool } from './random-pool';

describe('RandomPool', () => {
  it('draws bytes of the size asked, none repeated across refills of the pool', () => {
    const pool = new RandomPool(64);
    const draws = Array.from({ length: 1000 }, () => pool.take(12).toString('hex'));
    expect(draws.every((d) => d.length === 24)).toBe(true);
    expect(new Set(draws).size).toBe(draws.length);
  });

  it('refuses a draw larger than the pool', () => {
    expect(() => new RandomPool(16).take(17)).toThrow('a draw of 17 bytes is larger than the pool (16)');
  });
});
