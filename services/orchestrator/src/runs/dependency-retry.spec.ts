import { AppError, ErrorCode } from '@overskill/contracts';
import { isRetryable, withDependencyRetry } from './dependency-retry';

const noSleep = { attempts: 3, baseMs: 1, maxMs: 1, sleep: () => Promise.resolve() };

describe('withDependencyRetry', () => {
  it('retries an unavailable dependency, then fails with a code naming it', async () => {
    const call = jest.fn().mockRejectedValue(new AppError(ErrorCode.RPC_NO_RESPONDERS, 'nobody'));
    await expect(withDependencyRetry('ai', noSleep, call)).rejects.toMatchObject({
      code: ErrorCode.RUN_AI_UNAVAILABLE,
      message: expect.stringContaining('ai-router was unavailable (RPC_NO_RESPONDERS) after 3 attempts'),
    });
    expect(call).toHaveBeenCalledTimes(3);
  });

  it('returns the first success', async () => {
    const call = jest.fn().mockRejectedValueOnce(new AppError(ErrorCode.AI_PROVIDER_UNAVAILABLE, 'busy')).mockResolvedValue('ok');
    await expect(withDependencyRetry('ai', noSleep, call)).resolves.toBe('ok');
  });

  it('passes other errors through at once', async () => {
    const call = jest.fn().mockRejectedValue(new AppError(ErrorCode.AI_BUDGET_EXCEEDED, 'no money'));
    await expect(withDependencyRetry('ai', noSleep, call)).rejects.toMatchObject({ code: ErrorCode.AI_BUDGET_EXCEEDED });
    expect(call).toHaveBeenCalledTimes(1);
  });

  it('waits out a model rate limit for its retry time without spending attempts, up to the wait cap', async () => {
    const limited = () => new AppError(ErrorCode.AI_RATE_LIMITED, 'team limit', { retryAfterSeconds: '20' });
    const slept: number[] = [];
    const policy = { ...noSleep, rateLimitWaitMs: 60_000, sleep: (ms: number) => (slept.push(ms), Promise.resolve()) };
    const call = jest.fn().mockRejectedValueOnce(limited()).mockRejectedValueOnce(limited()).mockRejectedValueOnce(limited()).mockResolvedValue('ok');
    await expect(withDependencyRetry('ai', policy, call)).resolves.toBe('ok');
    expect(call).toHaveBeenCalledTimes(4);
    expect(slept.every((ms) => ms >= 20_000 && ms < 20_300)).toBe(true);

    // Past the cap the limit counts as unavailability: attempts with backoff, then the run fails.
    const always = jest.fn().mockImplementation(() => Promise.reject(limited()));
    await expect(withDependencyRetry('ai', { ...policy, rateLimitWaitMs: 30_000 }, always)).rejects.toMatchObject({ code: ErrorCode.RUN_AI_UNAVAILABLE });
    expect(always).toHaveBeenCalledTimes(4);
  });

  it('waits out an infrastructure outage without spending attempts, up to the outage cap', async () => {
    const down = () => new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, 'The message bus (NATS) is unreachable', { sent: 'no' });
    const slept: number[] = [];
    const policy = { ...noSleep, outageWaitMs: 10_000, sleep: (ms: number) => (slept.push(ms), Promise.resolve()) };
    // Six failures: more than the three attempts, fewer than ten seconds of polling.
    const call = jest.fn();
    for (let i = 0; i < 6; i++) call.mockRejectedValueOnce(down());
    call.mockResolvedValue('ok');
    await expect(withDependencyRetry('git', policy, call)).resolves.toBe('ok');
    expect(call).toHaveBeenCalledTimes(7);
    expect(slept.every((ms) => ms >= 500 && ms <= 1000)).toBe(true);

    // Past the cap the outage spends attempts, then the run fails with a code naming the dependency.
    const always = jest.fn().mockImplementation(() => Promise.reject(down()));
    await expect(withDependencyRetry('ai', { ...policy, outageWaitMs: 3000 }, always)).rejects.toMatchObject({ code: ErrorCode.RUN_AI_UNAVAILABLE });
    const waited = always.mock.calls.length - 3;
    expect(waited).toBeGreaterThanOrEqual(3);
    expect(waited).toBeLessThanOrEqual(7);
  });

  it('waits out an outage for a tool call only when the call never left', async () => {
    const policy = { ...noSleep, outageWaitMs: 10_000 };
    const neverSent = jest
      .fn()
      .mockRejectedValueOnce(new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, 'bus down', { sent: 'no' }))
      .mockResolvedValue('ok');
    await expect(withDependencyRetry('tools', policy, neverSent)).resolves.toBe('ok');
    // Lost while waiting for the answer: it may have run, so it is not sent again.
    const inDoubt = jest.fn().mockRejectedValue(new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, 'bus down'));
    await expect(withDependencyRetry('tools', policy, inDoubt)).rejects.toMatchObject({ code: ErrorCode.DEPENDENCY_UNAVAILABLE });
    expect(inDoubt).toHaveBeenCalledTimes(1);
  });

  it('stops waiting when the run is cancelled between attempts', async () => {
    const call = jest.fn().mockRejectedValue(new AppError(ErrorCode.RPC_NO_RESPONDERS, 'nobody'));
    const cancelled = () => {
      throw new AppError(ErrorCode.RUN_CANCELLED, 'cancelled');
    };
    await expect(withDependencyRetry('git', noSleep, call, cancelled)).rejects.toMatchObject({ code: ErrorCode.RUN_CANCELLED });
    expect(call).toHaveBeenCalledTimes(1);
  });

  it('retries a tool call only when it surely never arrived', () => {
    expect(isRetryable('tools', new AppError(ErrorCode.RPC_NO_RESPONDERS, ''))).toBe(true);
    expect(isRetryable('tools', new AppError(ErrorCode.RPC_TIMEOUT, ''))).toBe(false);
    expect(isRetryable('tools', new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, '', { sent: 'no' }))).toBe(true);
    expect(isRetryable('tools', new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, ''))).toBe(false);
    expect(isRetryable('ai', new AppError(ErrorCode.RPC_TIMEOUT, ''))).toBe(true);
    expect(isRetryable('git', new Error('boom'))).toBe(false);
  });
});
