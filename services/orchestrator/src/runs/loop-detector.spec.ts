import { LoopDetector } from './loop-detector';

const read = (path: string) => ({ name: 'read_file', inputJson: JSON.stringify({ path }), changedWorkspace: false });
const write = (path: string) => ({ name: 'write_file', inputJson: JSON.stringify({ path, content: 'x' }), changedWorkspace: true });

describe('LoopDetector', () => {
  it('flags the same call with the same input in N consecutive turns', () => {
    const d = new LoopDetector(3, 10);
    expect(d.record({ calls: [read('a')] }).looping).toBe(false);
    expect(d.record({ calls: [read('a'), write('b')] }).looping).toBe(false);
    const verdict = d.record({ calls: [read('a')] });
    expect(verdict).toEqual({ looping: true, reason: 'the same read_file call with the same input was repeated in 3 turns in a row' });
  });

  it('treats inputs with the same keys in another order as the same call', () => {
    const d = new LoopDetector(2, 10);
    d.record({ calls: [{ name: 'search_files', inputJson: '{"pattern":"x","path":"src"}', changedWorkspace: false }] });
    expect(d.record({ calls: [{ name: 'search_files', inputJson: '{"path":"src","pattern":"x"}', changedWorkspace: false }] }).looping).toBe(true);
  });

  it('does not flag a repeat that is interrupted by a different turn', () => {
    const d = new LoopDetector(3, 10);
    d.record({ calls: [read('a')] });
    d.record({ calls: [read('a')] });
    d.record({ calls: [read('b')] });
    expect(d.record({ calls: [read('a')] }).looping).toBe(false);
  });

  it('flags N turns in a row that change nothing, and resets on a change', () => {
    const d = new LoopDetector(5, 3);
    d.record({ calls: [read('a')] });
    d.record({ calls: [read('b')] });
    expect(d.record({ calls: [write('c')] }).looping).toBe(false);
    d.record({ calls: [read('d')] });
    d.record({ calls: [read('e')] });
    expect(d.record({ calls: [read('f')] })).toEqual({ looping: true, reason: '3 turns in a row called tools without changing the workspace' });
  });
});
