import { AppError, ErrorCode, isEntityId } from '@overskill/contracts';

// Pure input rules of the preview read subjects (unit-tested in preview-query.spec.ts).

export const CONSOLE_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
export const DEFAULT_DAYS = 7;
export const MAX_DAYS = 90;
export const TOP_PAGES = 10;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

export function scopeOf(req: { teamId: string; appId: string }): { teamId: string; appId: string } {
  if (!req.teamId) throw new AppError(ErrorCode.VALIDATION_FAILED, 'team_id is required');
  if (!req.appId) throw new AppError(ErrorCode.VALIDATION_FAILED, 'app_id is required');
  if (!isEntityId(req.teamId)) throw new AppError(ErrorCode.TEAM_NOT_FOUND, 'team_id is not a team id');
  if (!isEntityId(req.appId)) throw new AppError(ErrorCode.APP_NOT_FOUND, 'app_id is not an app id');
  return { teamId: req.teamId, appId: req.appId };
}

// "" = no lower bound; otherwise an RFC 3339 timestamp.
export function sinceOf(since: string): Date | null {
  if (!since) return null;
  const at = RFC3339.test(since) ? new Date(since) : null;
  if (!at || Number.isNaN(at.getTime()))
    throw new AppError(ErrorCode.VALIDATION_FAILED, `since must be an RFC 3339 timestamp (e.g. 2026-01-31T12:00:00Z), got "${since.slice(0, 40)}"`);
  return at;
}

// 0 (unset) = the default; anything else is clamped to 1..500.
export function limitOf(limit: number): number {
  if (!limit) return DEFAULT_LIMIT;
  return Math.min(MAX_LIMIT, Math.max(1, Math.trunc(limit)));
}

// 0 (unset) = the default; anything else is clamped to 1..90.
export function daysOf(days: number): number {
  if (!days) return DEFAULT_DAYS;
  return Math.min(MAX_DAYS, Math.max(1, Math.trunc(days)));
}

// The levels at or above min_level (debug < info < warn < error); null = every entry.
export function levelsFrom(minLevel: string): string[] | null {
  if (!minLevel) return null;
  const i = (CONSOLE_LEVELS as readonly string[]).indexOf(minLevel);
  if (i < 0) throw new AppError(ErrorCode.VALIDATION_FAILED, `min_level must be one of ${CONSOLE_LEVELS.join(', ')}`);
  return CONSOLE_LEVELS.slice(i);
}
