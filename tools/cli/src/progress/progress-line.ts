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

  update(done: number, total: number): void {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = done / seconds;
    const etaS = total > done && rate > 0 ? Math.round((total - done) / rate) : 0;
    if (this.json) {
      process.stderr.write(`${JSON.stringify({ progress: this.label, unit: this.unit, done, total, ratePerS: Math.round(rate), etaS })}\n`);
    } else if (this.tty) {
      const of = total > 0 ? ` of ~${total}` : '';
      process.stderr.write(`\r\x1b[K${this.label}: ${done}${of} ${this.unit}, ${Math.round(rate)}/s, ETA ${etaS} s`);
    }
  }

  end(): void {
    if (!this.json && this.tty) process.stderr.write('\r\x1b[K');
  }
}
