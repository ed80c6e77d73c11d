import { ErrorCode } from '@overskill/contracts';
import { DEFAULT_MODEL_PRICES } from '../config';
import { callCostUsd, checkBudgets, estimateFirstCallUsd, startOfUtcDay, type BudgetState } from './run-budget';

const usage = { inputTokens: 1_000_000, outputTokens: 100_000, cacheReadTokens: 1_000_000, cacheWriteTokens: 0 };

describe('callCostUsd', () => {
  it('uses ai-router’s price when it gave one', () => {
    expect(callCostUsd('claude-sonnet-4-6', usage, 0.42, DEFAULT_MODEL_PRICES)).toBe(0.42);
  });

  it('prices tokens by the longest matching model prefix otherwise', () => {
    expect(callCostUsd('claude-sonnet-4-6', usage, 0, DEFAULT_MODEL_PRICES)).toBeCloseTo(3 + 1.5 + 0.3);
    expect(callCostUsd('claude-haiku-4-5', usage, 0, DEFAULT_MODEL_PRICES)).toBeCloseTo(1 + 0.5 + 0.1);
    expect(callCostUsd('some-local-model', usage, 0, DEFAULT_MODEL_PRICES)).toBeCloseTo(3 + 1.5 + 0.3);
  });
});

describe('estimateFirstCallUsd', () => {
  it('counts about four characters a token plus the expected answer', () => {
    expect(estimateFirstCallUsd(4_000_000, 0, DEFAULT_MODEL_PRICES)).toBeCloseTo(3);
    expect(estimateFirstCallUsd(0, 1_000_000, DEFAULT_MODEL_PRICES)).toBeCloseTo(15);
  });
});

describe('startOfUtcDay', () => {
  it('is midnight UTC of the same day', () => {
    expect(startOfUtcDay(new Date('2026-11-22T23:59:59.999Z')).toISOString()).toBe('2026-11-22T00:00:00.000Z');
  });
});

describe('checkBudgets, the team’s daily spend', () => {
  const limits = { RUN_TOKEN_BUDGET: 1_000_000, RUN_COST_BUDGET_USD: 0, TEAM_DAILY_COST_BUDGET_USD: 10 };
  afterEach(() => jest.useRealTimers());

  it('adds what the run spent since a shared read it took later, and reads again once it is a second old', async () => {
    jest.useFakeTimers({ now: 100_000 });
    const state: BudgetState = { tokens: 0, costUsd: 1 };
    // Another run of the team read 9.5 USD at 99,900 (this run's 1 USD included).
    const shared = jest.fn(async () => ({ usd: 9.5, readAt: 99_900 }));
    await checkBudgets(limits, state, 0, shared);
    // The run's first figure is read afresh, later ones may be shared.
    expect(shared.mock.calls).toEqual([[true]]);
    jest.setSystemTime(100_200);
    state.costUsd = 1.4; // this run's next call, after the read
    await expect(checkBudgets(limits, state, 0, shared)).resolves.toBeUndefined();
    jest.setSystemTime(100_300);
    state.costUsd = 1.6;
    // 9.5 + 0.6 since the read: over the cap, without reading again.
    await expect(checkBudgets(limits, state, 0, shared)).rejects.toMatchObject({ code: ErrorCode.RUN_BUDGET_EXCEEDED });
    expect(shared).toHaveBeenCalledTimes(1);

    jest.setSystemTime(101_000);
    shared.mockResolvedValueOnce({ usd: 5, readAt: 101_000 });
    await expect(checkBudgets(limits, { tokens: 0, costUsd: 1.6, team: state.team, costLog: state.costLog }, 0, shared)).resolves.toBeUndefined();
    expect(shared).toHaveBeenCalledTimes(2);
    expect(shared.mock.calls[1]).toEqual([false]);
  });

  it('counts the run’s spend since a read that happened before its first check as the read’s', async () => {
    jest.useFakeTimers({ now: 200_000 });
    const state: BudgetState = { tokens: 0, costUsd: 2 };
    // The read is older than this run's first check: its 2 USD then were already in the figure.
    await expect(checkBudgets(limits, state, 0, async () => ({ usd: 7.9, readAt: 199_500 }))).resolves.toBeUndefined();
    expect(state.team).toMatchObject({ usd: 7.9, runCostAtRead: 2 });
  });
});
