import { setImmediate } from 'node:timers';

interface Waiting<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

// The calls made in one turn of the event loop, sent together once it ends: under load, one round
// trip for many requests instead of one each. `send` answers the items in the order given; when
// it throws, every call of its batch rejects with that error.
export class TurnBatch<I, O> {
  private waiting: Array<Waiting<I, O>> = [];

  constructor(private readonly send: (items: I[]) => Promise<O[]>) {}

  add(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      if (this.waiting.push({ item, resolve, reject }) === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    try {
      const out = await this.send(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(out[i] as O));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
