import { CliError } from '../cli-context';
import type { OptionValues } from '../command';

const DAY_MS = 86_400_000;

export const RANGE_OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  month: { type: 'string' },
  team: { type: 'string' },
} as const;

export const RANGE_HELP = '[--month YYYY-MM | --from YYYY-MM-DD --to YYYY-MM-DD] [--team <id>]';

function day(value: string, flag: string, name: string): string {
  const t = new Date(`${value}T00:00:00.000Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(t.getTime()) || t.toISOString().slice(0, 10) !== value) {
    throw new CliError(`${name}: --${flag} takes a calendar day as YYYY-MM-DD, got "${value}"`);
  }
  return value;
}

// The days a report or a rebuild covers: a month, a range, or by default the last 30 days;
// the team by id, or every team (the CLI is the operator's).
export function reportRange(values: OptionValues, name: string, maxDays: number): { from: string; to: string; teamId: string; days: string[] } {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const month = str('month');
  let from: string;
  let to: string;
  if (month !== undefined) {
    if (str('from') || str('to')) throw new CliError(`${name}: give --month or --from/--to, not both`);
    const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
    if (!m) throw new CliError(`${name}: --month takes YYYY-MM, got "${month}"`);
    from = `${month}-01`;
    to = new Date(Date.UTC(Number(m[1]), Number(m[2]), 0)).toISOString().slice(0, 10);
  } else {
    to = day(str('to') ?? new Date().toISOString().slice(0, 10), 'to', name);
    from = day(str('from') ?? new Date(Date.parse(to) - 29 * DAY_MS).toISOString().slice(0, 10), 'from', name);
  }
  const count = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
  if (count < 1) throw new CliError(`${name}: --from ${from} is after --to ${to}`);
  if (count > maxDays) throw new CliError(`${name}: ${from}..${to} covers ${count} days; at most ${maxDays}`);
  const team = str('team') ?? '';
  if (team && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(team))
    throw new CliError(`${name}: --team takes a team id (uuid), got "${team}"`);
  const days = Array.from({ length: count }, (_, i) => new Date(Date.parse(from) + i * DAY_MS).toISOString().slice(0, 10));
  return { from, to, teamId: team, days };
}
