// USD per million tokens. Cache writes and reads are priced apart from plain input: Anthropic bills
// a 5-minute cache write at 1.25x input and a cache read at 0.1x.
export interface ModelPrice {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export interface PriceTable {
  // Stamped on every usage event, so a cost can be recomputed after prices change.
  version: string;
  models: Record<string, ModelPrice>;
  // USD per generated or edited image, by image model.
  images: Record<string, number>;
}

export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
}

const sonnet: ModelPrice = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };
const haiku: ModelPrice = { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 };
const opus: ModelPrice = { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 };

export const DEFAULT_PRICE_TABLE: PriceTable = {
  version: '2026-11-01',
  models: {
    'claude-sonnet-4-5': sonnet,
    'claude-sonnet-4-6': sonnet,
    'claude-haiku-4-5': haiku,
    'claude-haiku-4-5-20251001': haiku,
    'claude-opus-4-7': opus,
    'kimi-k2': { input: 0.6, output: 2.5, cacheRead: 0.15, cacheWrite: 0.6 },
    'moonshotai/kimi-k2': { input: 0.6, output: 2.5, cacheRead: 0.15, cacheWrite: 0.6 },
    'gpt-4o': { input: 2.5, output: 10, cacheRead: 1.25, cacheWrite: 2.5 },
    'gpt-4o-mini': { input: 0.15, output: 0.6, cacheRead: 0.075, cacheWrite: 0.15 },
  },
  images: { 'dall-e-3': 0.04, 'dall-e-2': 0.02, 'gpt-image-1': 0.042 },
};

/** One image's cost in nano-USD; an unknown image model is priced like the dearest known one. */
export function imageCostNanoUsd(table: PriceTable, model: string): number {
  const known = table.images[model];
  const price = known ?? Math.max(0.08, ...Object.values(table.images));
  return Math.round(price * 1e9);
}

// An unknown model is priced like the dearest known one: a budget must never be under-counted.
function priceOf(table: PriceTable, model: string): ModelPrice {
  const known = table.models[model] ?? table.models[model.replace(/-\d{8}$/, '')];
  if (known) return known;
  const all = Object.values(table.models);
  return all.reduce((a, b) => (b.output > a.output ? b : a), all[0] ?? opus);
}

/** Cost in nano-USD (integers keep Redis counters exact). */
export function costNanoUsd(table: PriceTable, model: string, tokens: TokenCounts): number {
  const p = priceOf(table, model);
  // USD per million tokens = nano-USD per 0.001 token … i.e. 1 token costs price * 1000 nano-USD.
  return Math.round(
    1000 *
      (tokens.inputTokens * p.input +
        tokens.outputTokens * p.output +
        tokens.cacheReadInputTokens * p.cacheRead +
        tokens.cacheCreationInputTokens * p.cacheWrite),
  );
}

export function nanoToUsd(nano: number): number {
  return nano / 1e9;
}

export function usdToNano(usd: number): number {
  return Math.round(usd * 1e9);
}
