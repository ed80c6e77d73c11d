import { AppError, ErrorCode } from '@overskill/contracts';
import { isRetryable, withDependencyRetry } from './dependency-retry';

const noSleep = { attempts: 3, baseMs: 1, maxMs: 1, sleep: () => Promise.resolve() };

describe('withDependencyRetry', () => {
  it('retries an unavailable dependency, then fails with a code naming it', async () => {
    const call = jest.fn().mockRejectedValue(new AppError(ErrorCode.RPC_NO_RESPONDERS, 'nobody'));
    await expect(withDependencyRetry('ai', noSleep, call)).rejects.toMatchObject({ code: ErrorCode.RUN_AI_UNAVAILABLE, message: expect.stringContaining('ai-router was unavailable (RPC_NO_RESPONDERS) after 3 attempts') });
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
    expect(isRetryable('ai', new AppError(ErrorCode.RPC_TIMEOUT, ''))).toBe(true);
    expect(isRetryable('git', new Error('boom'))).toBe(false);
  });
});
