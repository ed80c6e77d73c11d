import { DEFAULT_MODEL_PRICES } from '../config';
import { callCostUsd, estimateFirstCallUsd, startOfUtcDay } from './run-budget';

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
