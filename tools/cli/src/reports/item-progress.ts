// Progress of work counted in items on stderr: a line with items, rate and ETA on a terminal,
// JSON lines with --json (stdout stays the result).
export class ItemProgress {
  private readonly started = Date.now();
  private readonly show: boolean;

  constructor(
    private readonly label: string,
    private readonly unit: string,
    private readonly total: number,
    private readonly json: boolean,
  ) {
    this.show = json || Boolean(process.stderr.isTTY);
  }

  update(done: number, detail = ''): void {
    if (!this.show) return;
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = done / seconds;
    const etaS = rate > 0 ? Math.max(0, Math.round((this.total - done) / rate)) : null;
    if (this.json) {
      process.stderr.write(`${JSON.stringify({ progress: this.label, unit: this.unit, done, total: this.total, ratePerS: Math.round(rate * 10) / 10, etaS, detail })}\n`);
      return;
    }
    process.stderr.write(`\r\x1b[K${this.label}: ${done}/${this.total} ${this.unit}, ${rate.toFixed(1)}/s${etaS === null ? '' : `, ETA ${etaS} s`}${detail ? ` (${detail})` : ''}`);
  }

  end(): void {
    if (this.show && !this.json) process.stderr.write('\r\x1b[K');
  }
}
