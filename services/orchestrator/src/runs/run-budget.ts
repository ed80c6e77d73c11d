import type { DEFAULT_MODEL_PRICES } from '../config';

export type PriceTable = typeof DEFAULT_MODEL_PRICES;

export interface CallUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

// ai-router's cost when it priced the call, else ours from the table (longest prefix match).
export function callCostUsd(model: string, usage: CallUsage, reportedUsd: number, table: PriceTable): number {
  if (reportedUsd > 0) return reportedUsd;
  const key = Object.keys(table)
    .filter((prefix) => model.startsWith(prefix))
    .sort((a, b) => b.length - a.length)[0];
  const price = table[key ?? ''] ?? table[''];
  if (!price) return 0;
  return (usage.inputTokens * price.input + usage.outputTokens * price.output + usage.cacheReadTokens * price.cacheRead + usage.cacheWriteTokens * price.cacheWrite) / 1_000_000;
}

// Before the first call: about 4 characters a token for what is sent, and a typical answer.
export function estimateFirstCallUsd(promptChars: number, expectedOutputTokens: number, table: PriceTable): number {
  return callCostUsd('', { inputTokens: Math.ceil(promptChars / 4), outputTokens: expectedOutputTokens, cacheReadTokens: 0, cacheWriteTokens: 0 }, 0, table);
}

export function startOfUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}
