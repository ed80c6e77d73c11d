import { randomFillSync } from 'node:crypto';

// Random bytes cut from a pool refilled a few KB at a time: one call to the system's generator
// per refill, not one per draw (after an idle moment that call alone took ~40 µs). For ids and
// tokens made on every request.
export class RandomPool {
  private readonly pool: Buffer;
  private offset: number;

  constructor(bytes = 4096) {
    this.pool = Buffer.alloc(bytes);
    this.offset = bytes;
  }

  // `size` fresh bytes, as a view of the pool: read them at once, a later draw may refill it.
  take(size: number): Buffer {
    if (size > this.pool.length) throw new RangeError(`a draw of ${size} bytes is larger than the pool (${this.pool.length})`);
    if (this.offset + size > this.pool.length) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    this.offset += size;
    return this.pool.subarray(this.offset - size, this.offset);
  }
}
