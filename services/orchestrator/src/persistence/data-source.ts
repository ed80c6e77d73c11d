import { createServiceDataSource } from '@overskill/persistence';
import { ORCHESTRATOR_ENTITIES } from './entities';
import { InitialSchema1763769600000 } from './migrations/1763769600000-initial-schema';
import { RunControl1763856000000 } from './migrations/1763856000000-run-control';
import { ToolCallIntents1763870400000 } from './migrations/1763870400000-tool-call-intents';
import { Projects1764806400000 } from './migrations/1764806400000-projects';
import { GitHubTasks1764810000000 } from './migrations/1764810000000-github-tasks';
import { TaskWork1764950400000 } from './migrations/1764950400000-task-work';
import { TaskFollowUps1765036800000 } from './migrations/1765036800000-task-follow-ups';
import { MessageIdempotency1765100000000 } from './migrations/1765100000000-message-idempotency';
import { ClaimRun1765200000000 } from './migrations/1765200000000-claim-run';
import { ClaimRunStart1765300000000 } from './migrations/1765300000000-claim-run-start';
import { BoundedClaimReads1765400000000 } from './migrations/1765400000000-bounded-claim-reads';
import { ClaimNextTask1765500000000 } from './migrations/1765500000000-claim-next-task';

export function createOrchestratorDataSource(url: string) {
  return createServiceDataSource({
    url,
    schema: 'orchestrator',
    entities: ORCHESTRATOR_ENTITIES,
    migrations: [
      InitialSchema1763769600000,
      RunControl1763856000000,
      ToolCallIntents1763870400000,
      Projects1764806400000,
      GitHubTasks1764810000000,
      TaskWork1764950400000,
      TaskFollowUps1765036800000,
      MessageIdempotency1765100000000,
      ClaimRun1765200000000,
      ClaimRunStart1765300000000,
      BoundedClaimReads1765400000000,
      ClaimNextTask1765500000000,
    ],
  });
}
