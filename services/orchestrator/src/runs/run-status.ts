import { orchestratorV1 } from '@overskill/contracts';
import type { RunStatusName } from '../persistence/entities';

export const RUN_STATUS: Record<RunStatusName, orchestratorV1.RunStatus> = {
  queued: orchestratorV1.RunStatus.QUEUED,
  running: orchestratorV1.RunStatus.RUNNING,
  completed: orchestratorV1.RunStatus.COMPLETED,
  failed: orchestratorV1.RunStatus.FAILED,
  cancelled: orchestratorV1.RunStatus.CANCELLED,
};

export const TERMINAL: ReadonlySet<RunStatusName> = new Set(['completed', 'failed', 'cancelled']);
