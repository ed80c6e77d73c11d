import { AppError, ErrorCode } from '@overskill/contracts';
import { daysOf, levelsFrom, limitOf, scopeOf, sinceOf } from './preview-query';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.code : 'not an AppError';
  }
  return undefined;
};

describe('preview read inputs', () => {
  it('keeps the levels at or above min_level (debug < info < warn < error)', () => {
    expect(levelsFrom('')).toBeNull();
    expect(levelsFrom('debug')).toEqual(['debug', 'info', 'warn', 'error']);
    expect(levelsFrom('warn')).toEqual(['warn', 'error']);
    expect(levelsFrom('error')).toEqual(['error']);
    expect(codeOf(() => levelsFrom('fatal'))).toBe(ErrorCode.VALIDATION_FAILED);
  });

  it('clamps limit to 1..500 with 50 when unset', () => {
    expect([0, 1, 20, 500, 501, 10_000, -3].map(limitOf)).toEqual([50, 1, 20, 500, 500, 500, 1]);
  });

  it('clamps days to 1..90 with 7 when unset', () => {
    expect([0, 1, 30, 90, 91, -1].map(daysOf)).toEqual([7, 1, 30, 90, 90, 1]);
  });

  it('accepts RFC 3339 since and rejects anything else', () => {
    expect(sinceOf('')).toBeNull();
    expect(sinceOf('2026-01-31T12:00:00Z')?.toISOString()).toBe('2026-01-31T12:00:00.000Z');
    expect(sinceOf('2026-01-31T12:00:00.5+02:00')?.toISOString()).toBe('2026-01-31T10:00:00.500Z');
    for (const bad of ['yesterday', '2026-01-31', '2026-13-45T99:00:00Z', '1700000000']) expect(codeOf(() => sinceOf(bad))).toBe(ErrorCode.VALIDATION_FAILED);
  });

  it('needs a team and an app id', () => {
    const team = '6f1c1f9e-0c4e-4a57-9d43-2d5d6f0b2b11';
    expect(codeOf(() => scopeOf({ teamId: '', appId: team }))).toBe(ErrorCode.VALIDATION_FAILED);
    expect(codeOf(() => scopeOf({ teamId: team, appId: '' }))).toBe(ErrorCode.VALIDATION_FAILED);
    expect(codeOf(() => scopeOf({ teamId: 'team-1', appId: team }))).toBe(ErrorCode.TEAM_NOT_FOUND);
    expect(codeOf(() => scopeOf({ teamId: team, appId: 'x' }))).toBe(ErrorCode.APP_NOT_FOUND);
    expect(scopeOf({ teamId: team, appId: team })).toEqual({ teamId: team, appId: team });
  });
});
