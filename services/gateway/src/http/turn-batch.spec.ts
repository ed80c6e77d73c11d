import { TurnBatch } from './turn-batch';

describe('TurnBatch', () => {
  it('sends the calls of one turn together, in order, and answers each with its own result', async () => {
    const sent: number[][] = [];
    const batch = new TurnBatch<number, string>(async (items) => {
      sent.push(items);
      return items.map((n) => `#${n}`);
    });
    const first = await Promise.all([batch.add(1), batch.add(2), batch.add(3)]);
    const second = await batch.add(4);
    expect(first).toEqual(['#1', '#2', '#3']);
    expect(second).toBe('#4');
    expect(sent).toEqual([[1, 2, 3], [4]]);
  });

  it('rejects every call of a batch whose send failed, and only those', async () => {
    let fail = true;
    const batch = new TurnBatch<number, number>(async (items) => {
      if (fail) throw new Error('redis down');
      return items;
    });
    const failed = [batch.add(1), batch.add(2)].map((p) => p.then(String, (err: Error) => err.message));
    expect(await Promise.all(failed)).toEqual(['redis down', 'redis down']);
    fail = false;
    expect(await batch.add(3)).toBe(3);
  });
});
