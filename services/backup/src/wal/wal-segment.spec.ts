import { parseSegment, segmentName, segmentOfLsn, walChain } from './wal-segment';

const MB16 = 16 * 1024 * 1024;

describe('WAL segment names', () => {
  it('maps positions to segment files and back, across a log boundary', () => {
    expect(segmentOfLsn('0/4000028', 1, MB16)).toBe('000000010000000000000004');
    expect(segmentOfLsn('2/FF000000', 3, MB16)).toBe('0000000300000002000000FF');
    const last = parseSegment('0000000100000002000000FF', MB16);
    expect(last).toEqual({ timeline: 1, number: 2n * 256n + 255n });
    expect(segmentName({ timeline: 1, number: (last?.number ?? 0n) + 1n }, MB16)).toBe('000000010000000300000000');
    // 64 MB segments: 64 per 4 GB log.
    expect(segmentOfLsn('1/4000000', 1, 64 * 1024 * 1024)).toBe('000000010000000100000001');
  });

  it('refuses what is not a segment name or position', () => {
    expect(parseSegment('00000001.history', MB16)).toBeNull();
    expect(parseSegment('000000010000000000000100', MB16)).toBeNull();
    expect(() => segmentOfLsn('nope', 1, MB16)).toThrow('not a WAL position');
  });

  it('finds the contiguous chain from a start and names every gap after it', () => {
    const names = ['000000010000000000000003', '000000010000000000000004', '000000010000000000000005', '000000010000000000000007', '000000020000000000000008'];
    expect(walChain(names, '000000010000000000000004', MB16)).toEqual({
      segments: ['000000010000000000000004', '000000010000000000000005'],
      missing: ['000000010000000000000006'],
    });
    expect(walChain(names, '000000010000000000000009', MB16)).toEqual({ segments: [], missing: ['000000010000000000000009'] });
    expect(walChain(['000000010000000000000004'], '000000010000000000000003', MB16).missing).toEqual(['000000010000000000000003']);
  });
});
