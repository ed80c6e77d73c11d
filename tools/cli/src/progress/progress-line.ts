// Progress of a long command on stderr: a line rewritten in place on a terminal (done of total,
// rate, ETA), or one JSON object per update with --json, so scripts can follow it too.
export class ProgressLine {
  private readonly started = Date.now();
  private readonly tty = process.stderr.isTTY === true;

  constructor(
    private readonly label: string,
    private readonly unit: string,
    private readonly json: boolean,
  ) {}

  // `total` 0 = not known yet; `detail` a short note on the last item (e.g. events in a day).
  update(done: number, total: number, detail = ''): void {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = done / seconds;
    const etaS = total > done && rate > 0 ? Math.round((total - done) / rate) : 0;
    if (this.json) {
      const line = { progress: this.label, unit: this.unit, done, total, ratePerS: Math.round(rate * 10) / 10, etaS, ...(detail ? { detail } : {}) };
      process.stderr.write(`${JSON.stringify(line)}\n`);
    } else if (this.tty) {
      const of = total > 0 ? ` of ${total}` : '';
      process.stderr.write(`\r\x1b[K${this.label}: ${done}${of} ${this.unit}, ${rate.toFixed(1)}/s, ETA ${etaS} s${detail ? ` (${detail})` : ''}`);
    }
  }

  end(): void {
    if (!this.json && this.tty) process.stderr.write('\r\x1b[K');
  }
}
