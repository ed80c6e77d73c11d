import type { RunStepEntity } from '../persistence/entities';
import { RUN_STATUS } from './run-status';

// A persisted step as the RunEvent published live on run.events.<runId>: replay and live are one shape.
export function toRunEvent(runId: string, step: Pick<RunStepEntity, 'seq' | 'kind' | 'summary' | 'status' | 'createdAt'>) {
  return { runId, seq: step.seq, kind: step.kind, summary: step.summary, status: RUN_STATUS[step.status], createdAt: step.createdAt.toISOString() };
}
