import type { Logger } from 'pino';

const MAX_SECONDS = 86_400;
const MAX_QUERY_CHARS = 2000;

// Switched at run time (`overskill db sql-logging on`), per process: SQL statements are logged
// until the moment it switches itself off, so a forgotten switch cannot fill the disk.
class SqlLoggingSwitch {
  private untilMs = 0;
  private sink: Logger | undefined;

  // The service's logger; statements are written through it so they carry its fields.
  attach(logger: Logger): void {
    this.sink = logger;
  }

  set(enabled: boolean, seconds: number): Date | null {
    if (!enabled) {
      this.untilMs = 0;
      return null;
    }
    const bounded = Math.min(Math.max(Math.trunc(seconds), 1), MAX_SECONDS);
    this.untilMs = Date.now() + bounded * 1000;
    return new Date(this.untilMs);
  }

  get activeUntil(): Date | null {
    return this.untilMs > Date.now() ? new Date(this.untilMs) : null;
  }

  // Parameters are counted, never written: they hold user content and credentials.
  statement(schema: string, query: string, parameters: readonly unknown[] | undefined, fields: Record<string, unknown> = {}): void {
    if (this.untilMs <= Date.now() || !this.sink) return;
    const text = query.length > MAX_QUERY_CHARS ? `${query.slice(0, MAX_QUERY_CHARS)}…` : query;
    this.sink.info({ component: 'sql', schema, query: text, parameters: parameters?.length ?? 0, ...fields }, 'sql statement');
  }
}

export const sqlLogging = new SqlLoggingSwitch();
