import type { ConsoleFact } from '../capture-batch';
import { redactSecrets } from '../redact-secrets';

export const SERVER_SOURCE = 'server';
const MESSAGE_CAP = 2000;
const FLUSH_MS = 1000;
// Per dev server per minute; a chatty watcher must not flood the facts.
const LINES_PER_MINUTE = 300;
const ERROR_LINE = /\b(error|failed|exception|cannot find|unexpected token|EADDRINUSE)\b/i;

// The level a dev server's line gets: stderr is a warning unless it reads like an error.
export function lineLevel(stream: 'stdout' | 'stderr', line: string): ConsoleFact['level'] {
  if (ERROR_LINE.test(line)) return 'error';
  return stream === 'stderr' ? 'warn' : 'info';
}

// A dev server's stdout/stderr as console facts with source `server`: ANSI codes stripped,
// secrets redacted, each line capped, at most LINES_PER_MINUTE a minute (the rest counted),
// sent in batches.
export class DevOutput {
  private pending: ConsoleFact[] = [];
  private minute = 0;
  private inMinute = 0;
  private dropped = 0;
  private timer?: NodeJS.Timeout;
  // The last lines, kept for the reason of a crash.
  readonly tail: string[] = [];

  constructor(private readonly publish: (facts: ConsoleFact[]) => Promise<void>) {}

  line(stream: 'stdout' | 'stderr', raw: string): void {
    // eslint-disable-next-line no-control-regex
    const clean = redactSecrets(raw.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')).trim();
    if (!clean) return;
    this.tail.push(clean.slice(0, 300));
    if (this.tail.length > 5) this.tail.shift();
    const minute = Math.floor(Date.now() / 60_000);
    if (minute !== this.minute) [this.minute, this.inMinute] = [minute, 0];
    if (++this.inMinute > LINES_PER_MINUTE) {
      this.dropped++;
      return;
    }
    const message = clean.length > MESSAGE_CAP ? `${clean.slice(0, MESSAGE_CAP)}… [${clean.length - MESSAGE_CAP} more characters]` : clean;
    this.pending.push({ level: lineLevel(stream, clean), message, source: SERVER_SOURCE, pageUrl: '', occurredAt: new Date().toISOString() });
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.dropped) {
      this.pending.push({
        level: 'warn',
        message: `${this.dropped} more dev-server lines this minute were not kept`,
        source: SERVER_SOURCE,
        pageUrl: '',
        occurredAt: new Date().toISOString(),
      });
      this.dropped = 0;
    }
    const batch = this.pending;
    this.pending = [];
    if (batch.length) await this.publish(batch).catch(() => undefined);
  }
}
