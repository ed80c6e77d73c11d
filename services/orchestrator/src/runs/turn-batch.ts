// Items asked for in one turn of the event loop, handled together once the turn's I/O callbacks
// are done (setImmediate): under many concurrent runs, one statement for many instead of one each.
// A lone item still leaves within its turn, through `one`. Two items of the same key never share a
// batch: the later goes in another, sent in the same turn (callers that need an order between
// them wait for the first, as a run's journal does).
export interface TurnBatchOptions<I, O> {
  key: (item: I) => string;
  max: number;
  one: (item: I) => Promise<O>;
  // One result per item, in the items' order.
  many: (items: I[]) => Promise<O[]>;
  // A failure of `many` after which each item is tried alone, for its own answer (one that left
  // nothing of the batch done). Any other failure fails every item of the batch.
  aloneAfter?: (err: unknown) => boolean;
  // Told the size of each batch as it is sent.
  sent?: (size: number) => void;
}

export class TurnBatch<I, O> {
  private pending: Array<Pending<I, O>> = [];

  constructor(private readonly opts: TurnBatchOptions<I, O>) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      if (this.pending.push({ item, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    let rest = this.pending;
    this.pending = [];
    while (rest.length > 0) {
      const batch: typeof rest = [];
      const later: typeof rest = [];
      const keys = new Set<string>();
      for (const entry of rest) {
        const key = this.opts.key(entry.item);
        if (batch.length < this.opts.max && !keys.has(key)) {
          keys.add(key);
          batch.push(entry);
        } else later.push(entry);
      }
      this.send(batch);
      rest = later;
    }
  }

  private send(batch: Array<Pending<I, O>>): void {
    this.opts.sent?.(batch.length);
    const [only] = batch;
    if (only && batch.length === 1) {
      this.opts.one(only.item).then(only.resolve, only.reject);
      return;
    }
    this.opts.many(batch.map((b) => b.item)).then(
      (outs) => batch.forEach((b, i) => b.resolve(outs[i] as O)),
      (err: unknown) => {
        if (this.opts.aloneAfter?.(err)) for (const b of batch) this.opts.one(b.item).then(b.resolve, b.reject);
        else for (const b of batch) b.reject(err);
      },
    );
  }
}

interface Pending<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}
