import { exceedsDepth } from './json-depth';

describe('exceedsDepth', () => {
  const nest = (levels: number) => {
    let v: unknown = 1;
    for (let i = 0; i < levels; i++) v = i % 2 ? { a: v } : [v];
    return v;
  };

  it('counts objects and arrays, not scalars', () => {
    expect(exceedsDepth('text', 1)).toBe(false);
    expect(exceedsDepth({ a: 1, b: [1, 2] }, 2)).toBe(false);
    expect(exceedsDepth({ a: 1, b: [1, { c: 1 }] }, 2)).toBe(true);
    expect(exceedsDepth(nest(32), 32)).toBe(false);
    expect(exceedsDepth(nest(33), 32)).toBe(true);
  });

  it('walks a hostile depth without overflowing the stack', () => {
    expect(exceedsDepth(nest(200_000), 32)).toBe(true);
  });
});
