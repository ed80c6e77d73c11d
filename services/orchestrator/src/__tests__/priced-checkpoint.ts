import type { FencedStep } from '../runs/runs.repository';

// A model call's checkpoint that spends `costUsd`, as a run held by `owner` writes it.
export function pricedCheckpoint(runId: string, seq: number, costUsd: number, owner = 'replica-a'): FencedStep {
  return {
    runId,
    owner,
    leaseMs: 60_000,
    seq,
    kind: 'model_call',
    summary: 'call',
    data: {},
    status: 'running',
    usage: { inputTokens: 10, outputTokens: 5, costUsd, iterations: 1 },
  };
}
