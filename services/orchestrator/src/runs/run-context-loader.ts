import { Inject, Injectable } from '@nestjs/common';
import { aiV1 } from '@overskill/contracts';
import { LeveledCache } from '@overskill/persistence';
import { ToolRunnerRepository } from '../delegation/tool-runner.repository';
import { ORCHESTRATOR_ENV, type OrchestratorEnv } from '../config';
import type { AppEntity, MessageEntity, RunEntity } from '../persistence/entities';
import type { Dependency } from './dependency-retry';
import { buildSystemPrompt, splitHistory } from './run-context';
import { userText, type RunContext } from './run-state';
import { AppFileTree } from './app-file-tree';
import { KeptToolCatalogs } from './kept-tool-catalogs';

// Every call to another service goes through the loop's retry (it knows when the run stopped).
export type Retrying = <T>(dependency: Dependency, fn: () => Promise<T>) => Promise<T>;

// Gathers what the model sees besides the request: the tool catalog, the conversation so far
// and the workspace's files.
@Injectable()
export class RunContextLoader {
  constructor(
    @Inject(ORCHESTRATOR_ENV) private readonly env: OrchestratorEnv,
    private readonly tools: ToolRunnerRepository,
    private readonly files: AppFileTree,
    private readonly cache: LeveledCache,
    private readonly catalogs: KeptToolCatalogs,
  ) {}

  // history: the app's conversation before the run's message, oldest first (read with the claim).
  async load(run: RunEntity, app: AppEntity, history: MessageEntity[], retry: Retrying): Promise<RunContext> {
    // The catalog (the same for every team: the global level) and the app's files, read at once.
    const [catalog, files] = await Promise.all([
      this.cache.global('ai_standards', 'tool-catalog', async () => {
        const listed = await retry('tools', () => this.tools.catalog(run.teamId));
        return listed.tools.map((t) => ({ name: t.name, description: t.description, inputSchemaJson: t.inputSchemaJson }));
      }),
      this.fileTree(run, app, retry),
    ]);
    const tools = this.catalogs.keep(catalog);
    const split = splitHistory(
      history.map((m) => ({ role: m.role, content: m.content })),
      this.env.RUN_HISTORY_RECENT_MESSAGES,
      this.env.RUN_HISTORY_CONDENSED_MESSAGES,
    );
    const context: RunContext = {
      tools,
      history: split.recent.map((m) =>
        m.role === 'user' ? userText(m.content) : { role: aiV1.Role.ASSISTANT, content: [{ block: { case: 'text' as const, value: { text: m.content } } }] },
      ),
      promptInput: { appName: app.name, appDescription: app.description, files, fileLimit: this.env.RUN_CONTEXT_FILE_LIMIT, condensed: split.condensed },
      system: '',
    };
    context.system = buildSystemPrompt({ ...context.promptInput, touched: [] });
    return context;
  }

  private async fileTree(run: RunEntity, app: AppEntity, retry: Retrying): Promise<string[]> {
    if (!app.initSha || !this.files.shown) return [];
    return this.files.list({ teamId: run.teamId, appId: run.appId }, (fetch) => retry('git', fetch));
  }
}
