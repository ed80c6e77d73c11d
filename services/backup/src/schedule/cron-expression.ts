// Five-field cron (minute hour day-of-month month day-of-week) read in UTC: `*`, lists, ranges
// and steps, which is what schedules here need. Day-of-month and day-of-week combine the way
// Vixie cron does: when both are restricted, either matching is enough.

interface Field {
  values: Set<number>;
  any: boolean;
}

const RANGES: [number, number][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];
const NAMES = ['minute', 'hour', 'day of month', 'month', 'day of week'];

function parseField(text: string, index: number): Field {
  const [min, max] = RANGES[index];
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`cron ${NAMES[index]} field "${text}" is not understood`);
    const start = m[1] === '*' ? min : Number(m[1]);
    const end = m[2] !== undefined ? Number(m[2]) : m[1] === '*' || m[3] !== undefined ? max : start;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (start < min || end > max || start > end || step < 1) throw new Error(`cron ${NAMES[index]} field "${text}" is out of range ${min}-${max}`);
    for (let v = start; v <= end; v += step) values.add(index === 4 && v === 7 ? 0 : v);
  }
  return { values, any: text === '*' };
}

export class CronExpression {
  private readonly fields: Field[];

  constructor(readonly source: string) {
    const parts = source.trim().split(/\s+/);
    if (parts.length !== 5) throw new Error(`cron expression "${source}" needs 5 fields (minute hour day month weekday)`);
    this.fields = parts.map(parseField);
  }

  matches(d: Date): boolean {
    const [minute, hour, dom, month, dow] = this.fields;
    if (!minute.values.has(d.getUTCMinutes()) || !hour.values.has(d.getUTCHours()) || !month.values.has(d.getUTCMonth() + 1)) return false;
    const domOk = dom.values.has(d.getUTCDate());
    const dowOk = dow.values.has(d.getUTCDay());
    if (dom.any || dow.any) return (dom.any || domOk) && (dow.any || dowOk);
    return domOk || dowOk;
  }

  // The latest minute in (after, upTo] that matches, or null.
  latestBetween(after: Date, upTo: Date): Date | null {
    const t = new Date(Math.floor(upTo.getTime() / 60_000) * 60_000);
    for (let i = 0; i < 60 * 24 * 8 && t.getTime() > after.getTime(); i += 1) {
      if (this.matches(t)) return new Date(t);
      t.setTime(t.getTime() - 60_000);
    }
    return null;
  }
}
