import { ErrorCode } from '@overskill/contracts';
import { TeamIdPipe } from './team-id.pipe';

describe('TeamIdPipe', () => {
  const pipe = new TeamIdPipe();

  it('passes requests whose team id is a platform id, and payloads without one', () => {
    const req = { teamId: '0b7f4c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e', appId: 'x' };
    expect(pipe.transform(req)).toBe(req);
    expect(pipe.transform({ runId: 'r' })).toEqual({ runId: 'r' });
  });

  it.each(['', 'team-1', '\u0000', '0B7F4C1E-2D3A-4B5C-8D9E-0F1A2B3C4D5E', `${'a'.repeat(36)}`])('refuses team id %j as a validation error', (teamId) => {
    expect(() => pipe.transform({ teamId })).toThrow(expect.objectContaining({ code: ErrorCode.VALIDATION_FAILED }));
  });
});
