import { TurnBatch } from './turn-batch';

interface Item {
  key: string;
  n: number;
}

// A batch whose `one` and `many` record what they were given and answer n × 10.
function recording(max = 64) {
  const calls: Array<{ via: 'one' | 'many'; items: number[] }> = [];
  const batch = new TurnBatch<Item, number>({
    key: (item) => item.key,
    max,
    one: async (item) => {
      calls.push({ via: 'one', items: [item.n] });
      return item.n * 10;
    },
    many: async (items) => {
      calls.push({ via: 'many', items: items.map((i) => i.n) });
      return items.map((i) => i.n * 10);
    },
  });
  return { batch, calls };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('TurnBatch', () => {
  it('sends the items of one turn together, each answered with its own result, and a lone item alone', async () => {
    const { batch, calls } = recording();
    const answers = await Promise.all([batch.add({ key: 'a', n: 1 }), batch.add({ key: 'b', n: 2 }), batch.add({ key: 'c', n: 3 })]);
    expect(answers).toEqual([10, 20, 30]);
    expect(calls).toEqual([{ via: 'many', items: [1, 2, 3] }]);

    expect(await batch.add({ key: 'a', n: 4 })).toBe(40);
    expect(calls.at(-1)).toEqual({ via: 'one', items: [4] });
  });

  it('leaves within the turn: nothing waits for a later one', async () => {
    const { batch, calls } = recording();
    const answer = batch.add({ key: 'a', n: 1 });
    await nextTurn();
    expect(calls).toEqual([{ via: 'one', items: [1] }]);
    expect(await answer).toBe(10);
  });

  it('keeps items of separate turns apart', async () => {
    const { batch, calls } = recording();
    const first = batch.add({ key: 'a', n: 1 });
    await nextTurn();
    const second = [batch.add({ key: 'b', n: 2 }), batch.add({ key: 'c', n: 3 })];
    expect(await Promise.all([first, ...second])).toEqual([10, 20, 30]);
    expect(calls).toEqual([
      { via: 'one', items: [1] },
      { via: 'many', items: [2, 3] },
    ]);
  });

  it('never puts two items of one key in a batch, nor more than its maximum', async () => {
    const { batch, calls } = recording(2);
    const answers = await Promise.all([
      batch.add({ key: 'a', n: 1 }),
      batch.add({ key: 'a', n: 2 }),
      batch.add({ key: 'b', n: 3 }),
      batch.add({ key: 'c', n: 4 }),
      batch.add({ key: 'd', n: 5 }),
    ]);
    expect(answers).toEqual([10, 20, 30, 40, 50]);
    expect(calls).toEqual([
      { via: 'many', items: [1, 3] },
      { via: 'many', items: [2, 4] },
      { via: 'one', items: [5] },
    ]);
  });

  it('fails every item of a batch that failed, and only those', async () => {
    const refused = new Error('connection lost');
    const batch = new TurnBatch<Item, number>({
      key: (item) => item.key,
      max: 2,
      one: async (item) => item.n,
      many: async (items) => {
        if (items.some((i) => i.n === 1)) throw refused;
        return items.map((i) => i.n);
      },
      aloneAfter: (err) => err !== refused,
    });
    const answers = await Promise.allSettled([
      batch.add({ key: 'a', n: 1 }),
      batch.add({ key: 'b', n: 2 }),
      batch.add({ key: 'c', n: 3 }),
      batch.add({ key: 'd', n: 4 }),
    ]);
    expect(answers).toEqual([
      { status: 'rejected', reason: refused },
      { status: 'rejected', reason: refused },
      { status: 'fulfilled', value: 3 },
      { status: 'fulfilled', value: 4 },
    ]);
  });

  it('tries each item of a batch alone after a failure that asks for it', async () => {
    const refusedWhole = new Error('one row refused');
    const alone: number[] = [];
    const batch = new TurnBatch<Item, number>({
      key: (item) => item.key,
      max: 64,
      one: async (item) => {
        alone.push(item.n);
        if (item.n === 2) throw new Error(`item ${item.n} refused`);
        return item.n;
      },
      many: async () => {
        throw refusedWhole;
      },
      aloneAfter: (err) => err === refusedWhole,
    });
    const answers = await Promise.allSettled([batch.add({ key: 'a', n: 1 }), batch.add({ key: 'b', n: 2 }), batch.add({ key: 'c', n: 3 })]);
    expect(alone.sort()).toEqual([1, 2, 3]);
    expect(answers).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'rejected', reason: new Error('item 2 refused') },
      { status: 'fulfilled', value: 3 },
    ]);
  });
});
