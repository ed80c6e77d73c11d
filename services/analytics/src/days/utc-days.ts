import { AppError, ErrorCode } from '@overskill/contracts';

export const DAY_MS = 86_400_000;

export function parseDay(value: string, name: string): Date {
  const date = new Date(`${value}T00:00:00.000Z`);
  // Round-tripping catches 2026-02-31, which Date would roll into March.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    throw new AppError(ErrorCode.VALIDATION_FAILED, `${name} must be a calendar day as YYYY-MM-DD, got "${value}"`);
  }
  return date;
}

// Every UTC day of [from, to], oldest first; refused when reversed or longer than maxDays.
export function dayRange(fromValue: string, toValue: string, maxDays: number): string[] {
  const from = parseDay(fromValue, 'from');
  const to = parseDay(toValue, 'to');
  if (to < from) throw new AppError(ErrorCode.VALIDATION_FAILED, `from (${fromValue}) is after to (${toValue})`);
  const days = (to.getTime() - from.getTime()) / DAY_MS + 1;
  if (days > maxDays) throw new AppError(ErrorCode.VALIDATION_FAILED, `the range covers ${days} days; ask for at most ${maxDays}`);
  return Array.from({ length: days }, (_, i) => new Date(from.getTime() + i * DAY_MS).toISOString().slice(0, 10));
}

// The Monday (UTC) that starts the ISO week of a day.
export function weekOf(day: string): string {
  const at = new Date(`${day}T00:00:00.000Z`);
  const sinceMonday = (at.getUTCDay() + 6) % 7;
  return new Date(at.getTime() - sinceMonday * DAY_MS).toISOString().slice(0, 10);
}
