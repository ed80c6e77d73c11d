import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

// The infrastructure cost model (config/cost-model.yml): what the platform costs per 30 days,
// shared out to apps day by day in proportion to their weighted activity.
const costModelSchema = z
  .object({
    version: z.string().min(1).max(64),
    monthly_usd: z.number().min(0).max(10_000_000),
    weights: z
      .object({
        ai_requests: z.number().min(0).default(1),
        tool_calls: z.number().min(0).default(0),
        runs: z.number().min(0).default(0),
      })
      .strict(),
  })
  .strict();

export interface CostModel {
  version: string;
  dailyUsd: number;
  weights: { ai_requests: number; tool_calls: number; runs: number };
}

export const NO_COST_MODEL: CostModel = { version: 'none', dailyUsd: 0, weights: { ai_requests: 1, tool_calls: 0, runs: 0 } };

export function parseCostModel(text: string, source: string): CostModel {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new Error(`${source} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const result = costModelSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'file'}: ${i.message}`);
    throw new Error(`${source} is not a cost model: ${problems.join('; ')}`);
  }
  const m = result.data;
  return { version: m.version, dailyUsd: m.monthly_usd / 30, weights: m.weights };
}

// The named file, or config/cost-model.yml under the working directory when present; without
// either, infrastructure is not priced (version "none").
export function loadCostModel(file: string | undefined, cwd = process.cwd()): CostModel {
  const path = file ? resolve(cwd, file) : resolve(cwd, 'config/cost-model.yml');
  if (!file && !existsSync(path)) return NO_COST_MODEL;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the cost model ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseCostModel(text, path);
}
