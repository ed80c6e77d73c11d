// Items asked for in one turn of the event loop, handled together once the turn's I/O callbacks
// are done (setImmediate): under many concurrent runs, one statement for many instead of one each.
// A lone item still leaves within its turn, through `one`. Two items of the same key never share a
// batch: the later goes in another, sent in the same turn (callers that need an order between
// them wait for the first, as a run's journal does).
export class TurnBatch<I, O> {
  private pending: Array<Pending<I, O>> = [];

  constructor(
    private readonly key: (item: I) => string,
    private readonly max: number,
    private readonly one: (item: I) => Promise<O>,
    // One result per item, in the items' order; a rejection fails every item of the batch.
    private readonly many: (items: I[]) => Promise<O[]>,
    // Told the size of each batch as it is sent.
    private readonly sent: (size: number) => void = () => undefined,
  ) {}

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
        const key = this.key(entry.item);
        if (batch.length < this.max && !keys.has(key)) {
          keys.add(key);
          batch.push(entry);
        } else later.push(entry);
      }
      this.send(batch);
      rest = later;
    }
  }

  private send(batch: Array<Pending<I, O>>): void {
    this.sent(batch.length);
    const [only] = batch;
    if (only && batch.length === 1) {
      this.one(only.item).then(only.resolve, only.reject);
      return;
    }
    this.many(batch.map((b) => b.item)).then(
      (outs) => batch.forEach((b, i) => b.resolve(outs[i] as O)),
      (err: unknown) => batch.forEach((b) => b.reject(err)),
    );
  }
}

interface Pending<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}
