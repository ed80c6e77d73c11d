import { generationToken } from './leveled-cache';

describe('generationToken', () => {
  it('makes 8-character base64url tokens, none repeated, across many refills of its pool', () => {
    const tokens = Array.from({ length: 10_000 }, () => generationToken());
    expect(tokens.every((t) => /^[A-Za-z0-9_-]{8}$/.test(t))).toBe(true);
    expect(new Set(tokens).size).toBe(tokens.length);
  });
});
