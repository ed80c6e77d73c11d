import { AppError, ErrorCode } from '@overskill/contracts';
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
  return (
    (usage.inputTokens * price.input +
      usage.outputTokens * price.output +
      usage.cacheReadTokens * price.cacheRead +
      usage.cacheWriteTokens * price.cacheWrite) /
    1_000_000
  );
}

// Before the first call: about 4 characters a token for what is sent, and a typical answer.
export function estimateFirstCallUsd(promptChars: number, expectedOutputTokens: number, table: PriceTable): number {
  return callCostUsd('', { inputTokens: Math.ceil(promptChars / 4), outputTokens: expectedOutputTokens, cacheReadTokens: 0, cacheWriteTokens: 0 }, 0, table);
}

export function startOfUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

export interface BudgetLimits {
  RUN_TOKEN_BUDGET: number;
  RUN_COST_BUDGET_USD: number;
  TEAM_DAILY_COST_BUDGET_USD: number;
}

export interface BudgetState {
  tokens: number;
  costUsd: number;
  team?: { usd: number; readAt: number; runCostAtRead: number };
  // The run's own cost at its recent checks (oldest first), to tell what a shared read includes.
  costLog?: Array<{ at: number; usd: number }>;
}

// Before every model call (and with the first call's estimate before the run starts): the run's
// tokens and dollars, then the team's spend today (as read at `readAt`, shared by the team's runs).
export async function checkBudgets(
  limits: BudgetLimits,
  state: BudgetState,
  estimateUsd: number,
  // fresh: read now (the run's first figure), not a read shared by the team's runs.
  teamSpendToday: (fresh: boolean) => Promise<{ usd: number; readAt: number }>,
): Promise<void> {
  const { RUN_TOKEN_BUDGET, RUN_COST_BUDGET_USD, TEAM_DAILY_COST_BUDGET_USD } = limits;
  if (state.tokens >= RUN_TOKEN_BUDGET) {
    throw new AppError(ErrorCode.RUN_BUDGET_EXCEEDED, `The run used ${state.tokens} tokens, its budget is ${RUN_TOKEN_BUDGET}; the work so far is committed`);
  }
  if (RUN_COST_BUDGET_USD > 0 && state.costUsd + estimateUsd >= RUN_COST_BUDGET_USD) {
    throw new AppError(
      ErrorCode.RUN_BUDGET_EXCEEDED,
      estimateUsd > 0 && state.costUsd === 0
        ? `The request is estimated at $${estimateUsd.toFixed(4)}, over the run budget of $${RUN_COST_BUDGET_USD}; make it smaller`
        : `The run spent $${state.costUsd.toFixed(4)} of its $${RUN_COST_BUDGET_USD} budget; the work so far is committed`,
    );
  }
  if (TEAM_DAILY_COST_BUDGET_USD > 0) {
    // At most a second old, read by another run of the team perhaps: this run's own spend since
    // the read is added, counted from its cost at a check no later than the read (never less).
    const now = Date.now();
    const log = (state.costLog ?? []).filter((c, i, all) => now - c.at <= 5000 || i === all.length - 1);
    const first = log[0] ?? { at: now, usd: state.costUsd };
    state.costLog = [...log, { at: now, usd: state.costUsd }];
    if (!state.team || now - state.team.readAt > 1000) {
      const read = await teamSpendToday(!state.team);
      const atRead = state.costLog.filter((c) => c.at <= read.readAt).at(-1) ?? first;
      state.team = { usd: read.usd, readAt: read.readAt, runCostAtRead: atRead.usd };
    }
    const spent = state.team.usd + (state.costUsd - state.team.runCostAtRead);
    if (spent + estimateUsd >= TEAM_DAILY_COST_BUDGET_USD) {
      throw new AppError(
        ErrorCode.RUN_BUDGET_EXCEEDED,
        `The team spent $${spent.toFixed(4)} of its daily budget of $${TEAM_DAILY_COST_BUDGET_USD} today; try again tomorrow or raise the budget`,
      );
    }
  }
}
