import { Inject, Injectable } from '@nestjs/common';
import { LeveledCache } from '@overskill/persistence';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import { GitServiceRepository, type GitCaller } from '../delegation/git-service.repository';

// The working tree's files as git would commit them (committed or not), the list a run's prompt
// shows. Cached per team and app: tool-runner edits the cached list when a tool creates or deletes
// a file, and drops it when a folder moves or the ignore rules change; git-service drops it when
// it restores or switches a branch.
@Injectable()
export class AppFileTree {
  constructor(
    @Inject(ORCHESTRATOR_ENV) private readonly env: Pick<OrchestratorEnv, 'RUN_CONTEXT_FILE_LIMIT'>,
    private readonly git: GitServiceRepository,
    private readonly cache: LeveledCache,
  ) {}

  get shown(): boolean {
    return this.env.RUN_CONTEXT_FILE_LIMIT > 0;
  }

  // On a miss, one git-service call (one git process that reads no file's contents), made through
  // `attempt`: a run's retry. In any order: an edited list is not sorted again.
  list(caller: GitCaller, attempt: (call: () => Promise<string[]>) => Promise<string[]>): Promise<string[]> {
    return this.cache.tenant('app_schema', caller, () => attempt(async () => (await this.git.worktreeFiles(caller)).paths));
  }

  // A new app's tree is its first commit's files, which git-service answered with it: stored now,
  // so the app's first run does not ask git for them.
  async seed(caller: GitCaller, files: string[]): Promise<void> {
    if (this.shown) await this.cache.tenant('app_schema', caller, async () => files);
  }
}
