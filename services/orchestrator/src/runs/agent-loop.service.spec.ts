import { create, toBinary } from '@bufbuild/protobuf';
import { aiV1, AppError, ErrorCode, gitV1, toolV1 } from '@overskill/contracts';
import { encodeMessage } from '@overskill/messaging';
import type { ServiceMetrics } from '@overskill/observability';
import { DEFAULT_CACHE_CONFIG, LeveledCache } from '@overskill/persistence';
import Redis from 'ioredis';
import pino from 'pino';
import { Registry } from 'prom-client';
import { orchestratorEnvSchema } from '../config';
import type { AiRouterRepository, CompletionRequest } from '../delegation/ai-router.repository';
import type { GitServiceRepository } from '../delegation/git-service.repository';
import type { ToolRunnerRepository } from '../delegation/tool-runner.repository';
import type { AppEntity, MessageEntity, RunEntity, RunStepEntity, ToolCallEntity } from '../persistence/entities';
import { AgentLoopService, commitMessageFor, concurrentGroups } from './agent-loop.service';
import type { PreviewCheckRepository } from '../delegation/preview-check.repository';
import { PreviewAutofix } from './preview-autofix';
import { AppFileTree } from './app-file-tree';
import { KeptToolCatalogs } from './kept-tool-catalogs';
import { RunContextLoader } from './run-context-loader';
import type { RunQueueRepository } from './run-queue.repository';
import type { FencedStep, RunsRepository, StartReads } from './runs.repository';
import { TeamSpendCache } from './team-spend-cache';

describe('commitMessageFor', () => {
  it('uses the first line of the request as the subject', () => {
    expect(commitMessageFor('  Add a dark mode\nand make it the default ')).toBe('Add a dark mode');
  });

  it('shortens long requests to a conventional subject line', () => {
    const subject = commitMessageFor('x'.repeat(200));
    expect(subject).toHaveLength(72);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('never produces an empty message', () => {
    expect(commitMessageFor('   \n  ')).toBe('Update app');
  });
});

describe('concurrentGroups', () => {
  const readOnly = new Set(['read_file', 'search_files']);
  const use = (name: string, id: string) => ({ name, id });

  it('groups consecutive read-only calls and keeps every write alone and in order', () => {
    const groups = concurrentGroups(
      [use('read_file', '1'), use('search_files', '2'), use('write_file', '3'), use('write_file', '4'), use('read_file', '5')],
      readOnly,
    );
    expect(groups.map((g) => g.map((u) => u.id))).toEqual([['1', '2'], ['3'], ['4'], ['5']]);
  });
});

type Block = { text: string } | { tool: string; id: string; input: Record<string, unknown> };

// The loop alone: its repositories are small in-memory fakes recording what the loop asked of
// ai-router, tool-runner, git-service and the run's checkpoints.
describe('AgentLoopService with mocked repositories', () => {
  const env = orchestratorEnvSchema.parse({
    DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db',
    RUN_RETRY_BASE_MS: '1',
    RUN_RETRY_MAX_MS: '2',
    RUN_LOOP_REPEAT_TURNS: '3',
    PREVIEW_CHECK: 'off',
  });
  const app = { id: 'app-1', teamId: 'team-1', name: 'Todo', description: '', template: 'react', maxIterations: 0, initSha: null } as unknown as AppEntity;
  const message = {
    id: 'msg-1',
    appId: 'app-1',
    teamId: 'team-1',
    role: 'user',
    content: 'Add a button\nmore detail',
    createdAt: new Date(),
  } as unknown as MessageEntity;

  let run: RunEntity;
  // The team's spend today, as the claim reads it.
  let teamSpentUsd = 0;
  let steps: RunStepEntity[];
  // Whether each checkpoint's commit waited for the WAL flush, by kind and tool.
  let commitModes: string[];
  let intents: ToolCallEntity[];
  let finished: Array<{ status: string; fields: Record<string, unknown> }>;
  let answers: Block[][];
  let ai: { complete: jest.Mock };
  // What each model call saw (the loop keeps appending to one conversation array).
  let seen: Array<{ messages: Array<{ content: Array<{ block: { case: string; value: { content?: string } } }> }>; system: string }>;
  let tools: { catalog: jest.Mock; execute: jest.Mock };
  let git: { head: jest.Mock; commit: jest.Mock; worktreeFiles: jest.Mock; restore: jest.Mock };
  let loop: AgentLoopService;
  let runs: RunsRepository;

  const completion = (blocks: Block[]) =>
    create(aiV1.CompletionResponseSchema, {
      model: 'claude-test',
      stopReason: blocks.some((b) => 'tool' in b) ? 'tool_use' : 'end_turn',
      usage: { inputTokens: 100n, outputTokens: 20n },
      costUsd: 0.01,
      content: blocks.map((b) =>
        'tool' in b
          ? { block: { case: 'toolUse' as const, value: { id: b.id, name: b.tool, inputJson: JSON.stringify(b.input) } } }
          : { block: { case: 'text' as const, value: { text: b.text } } },
      ),
    });
  const kinds = () => steps.map((s) => s.kind);

  beforeEach(() => {
    run = {
      id: 'run-1',
      appId: 'app-1',
      teamId: 'team-1',
      messageId: 'msg-1',
      status: 'queued',
      inputTokens: '0',
      outputTokens: '0',
      costUsd: '0',
      iterations: 0,
      createdAt: new Date(),
      startedAt: null,
    } as unknown as RunEntity;
    steps = [];
    teamSpentUsd = 0;
    commitModes = [];
    intents = [];
    finished = [];
    answers = [];
    runs = {
      claim: jest.fn(async (_id: string, _owner: string, _leaseMs: number, reads: StartReads) => ({
        claimed: { run, steps: [...steps], message, app, history: [], ...(reads.spendDay ? { teamSpend: { usd: teamSpentUsd, readAt: Date.now() } } : {}) },
      })),
      renewLease: jest.fn(async () => ({ held: true, cancelRequested: false, cancelReason: '' })),
      findRun: jest.fn(async () => run),
      listToolIntents: jest.fn(async () => [...intents]),
      recordToolIntent: jest.fn(async (i: { runId: string; toolUseId: string; name: string; inputJson: string }) => {
        intents.push({ runId: i.runId, toolUseId: i.toolUseId, name: i.name, inputJson: i.inputJson } as ToolCallEntity);
        return true;
      }),
      appendFencedStep: jest.fn(async (s: FencedStep) => {
        commitModes.push(`${s.kind}${s.data['name'] ? ` ${String(s.data['name'])}` : ''}: ${s.durable === false ? 'not flushed' : 'durable'}`);
        steps.push({
          id: `step-${s.seq}`,
          runId: s.runId,
          seq: s.seq,
          kind: s.kind,
          summary: s.summary,
          data: s.data,
          status: s.status,
          createdAt: new Date(),
        } as RunStepEntity);
        return { createdAt: new Date(), cancelRequested: false, cancelReason: '' };
      }),
      teamSpendOn: jest.fn(async () => 0),
      finishOwned: jest.fn(async (_id: string, _owner: string, status: string, fields: Record<string, unknown>) => {
        finished.push({ status, fields });
        return { iterations: steps.filter((s) => s.kind === 'model_call').length };
      }),
    } as unknown as RunsRepository;
    const queue = { publishProgress: jest.fn(), publishFinished: jest.fn(async () => undefined) } as unknown as RunQueueRepository;
    seen = [];
    ai = {
      complete: jest.fn(async (req: (typeof seen)[number]) => {
        seen.push({ messages: [...req.messages], system: req.system });
        return completion(answers.shift() ?? [{ text: 'Done.' }]);
      }),
    };
    tools = {
      catalog: jest.fn(async () => create(toolV1.CatalogListResponseSchema, { tools: [{ name: 'write_file', description: 'Write', inputSchemaJson: '{}' }] })),
      execute: jest.fn(async (c: { toolUseId: string }) => create(toolV1.ToolCallResponseSchema, { output: `wrote ${c.toolUseId}`, bytesWritten: 5n })),
    };
    git = {
      head: jest.fn(async () => create(gitV1.RepoHeadResponseSchema, { headSha: 'a'.repeat(40), branch: 'main' })),
      commit: jest.fn(async () => create(gitV1.RepoCommitResponseSchema, { sha: 'b'.repeat(40), created: true })),
      worktreeFiles: jest.fn(async () => create(gitV1.WorktreeListResponseSchema, {})),
      restore: jest.fn(async () => create(gitV1.RepoRestoreResponseSchema, { sha: 'c'.repeat(40), savedPendingSha: 'd'.repeat(40) })),
    };
    // Never connected: the cache passes every lookup through to the loaders.
    const cache = new LeveledCache(new Redis({ lazyConnect: true }), DEFAULT_CACHE_CONFIG, new Registry());
    const files = new AppFileTree(env, git as unknown as GitServiceRepository, cache);
    const contexts = new RunContextLoader(env, tools as unknown as ToolRunnerRepository, files, cache, new KeptToolCatalogs());
    loop = new AgentLoopService(
      env,
      runs,
      queue,
      ai as unknown as AiRouterRepository,
      tools as unknown as ToolRunnerRepository,
      git as unknown as GitServiceRepository,
      contexts,
      // The preview check has its own spec (preview-autofix.spec.ts); off here, a round ends at its commit.
      new PreviewAutofix({} as PreviewCheckRepository, env, pino({ level: 'silent' })),
      new TeamSpendCache(runs),
      pino({ level: 'silent' }),
      { registry: new Registry() } as unknown as ServiceMetrics,
    );
  });

  it('asks the model, runs the tool it asks for, feeds the result back and commits once', async () => {
    answers = [[{ text: 'Writing it' }, { tool: 'write_file', id: 'tu-1', input: { path: 'src/App.tsx', content: 'x' } }], [{ text: 'Added the button.' }]];
    await loop.execute(run.id);

    expect(kinds()).toEqual(['run_started', 'model_call', 'tool_call', 'model_call', 'commit', 'run_completed']);
    expect(tools.execute).toHaveBeenCalledTimes(1);
    expect(tools.execute.mock.calls[0]?.[0]).toMatchObject({ teamId: 'team-1', appId: 'app-1', runId: 'run-1', toolUseId: 'tu-1', name: 'write_file' });
    // The second model call sees the tool's result, and the system prompt names the touched file.
    const second = seen[1];
    expect(second?.messages.at(-1)?.content[0]?.block).toMatchObject({ case: 'toolResult', value: { content: 'wrote tu-1' } });
    expect(second?.system).toContain('- src/App.tsx');
    expect(git.commit).toHaveBeenCalledTimes(1);
    expect(git.commit.mock.calls[0]?.slice(1, 2)).toEqual(['Add a button']);
    expect(finished).toEqual([{ status: 'completed', fields: expect.objectContaining({ commitSha: 'b'.repeat(40), reply: 'Added the button.' }) }]);
  });

  it("reads the starting commit, the tool catalog and the app's files at once", async () => {
    // Each read answers only once all three were asked: read one after another, the start never ends.
    const asked = new Set<string>();
    let allAsked!: () => void;
    const gate = new Promise<void>((resolve) => (allAsked = resolve));
    const gated =
      <T>(name: string, answer: T) =>
      async (): Promise<T> => {
        if (asked.add(name).size === 3) allAsked();
        await gate;
        return answer;
      };
    git.head.mockImplementationOnce(gated('head', create(gitV1.RepoHeadResponseSchema, { headSha: 'a'.repeat(40), branch: 'main' })));
    tools.catalog.mockImplementationOnce(
      gated('catalog', create(toolV1.CatalogListResponseSchema, { tools: [{ name: 'write_file', description: 'Write', inputSchemaJson: '{}' }] })),
    );
    git.worktreeFiles.mockImplementationOnce(gated('files', create(gitV1.WorktreeListResponseSchema, { paths: ['src/App.tsx'] })));
    // An app with a first commit: its files are listed in the prompt.
    (runs.claim as jest.Mock).mockImplementationOnce(async () => ({
      claimed: { run, steps: [], message, app: { ...app, initSha: 'f'.repeat(40) }, history: [] },
    }));
    const execution = loop.execute(run.id);
    let timer: NodeJS.Timeout | undefined;
    const stalled = await Promise.race([execution.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 2000)))]);
    clearTimeout(timer);
    // Stalled: what was asked so far is the failure; let the run end so nothing is left behind.
    const askedInTime = [...asked];
    allAsked();
    await execution;

    expect({ stalled, asked: askedInTime.sort() }).toEqual({ stalled: false, asked: ['catalog', 'files', 'head'] });
    expect(seen[0]?.system).toContain('src/App.tsx');
    expect(steps[0]?.data).toMatchObject({ baseSha: 'a'.repeat(40) });
    expect(finished).toEqual([{ status: 'completed', fields: expect.objectContaining({ commitSha: 'a'.repeat(40) }) }]);
  });

  it('resumes from its checkpoints without repeating a tool call that may have run', async () => {
    answers = [[{ tool: 'write_file', id: 'tu-1', input: { path: 'a.txt' } }]];
    // First replica: dies inside the tool call, after its intent is durable.
    tools.execute.mockImplementationOnce(async () => {
      throw new Error('replica killed');
    });
    await expect(loop.execute(run.id)).rejects.toThrow('replica killed');
    expect(kinds()).toEqual(['run_started', 'model_call']);

    answers = [[{ text: 'Checked and done.' }]];
    await loop.execute(run.id, 2);
    expect(kinds()).toEqual(['run_started', 'model_call', 'run_resumed', 'tool_call', 'model_call', 'commit', 'run_completed']);
    expect(tools.execute).toHaveBeenCalledTimes(1);
    expect(steps.find((s) => s.kind === 'tool_call')?.data).toMatchObject({ toolUseId: 'tu-1', inDoubt: true, isError: true });
    expect(ai.complete).toHaveBeenCalledTimes(2);
  });

  it('runs a read-only call again after a crash, since it left no intent and changed nothing', async () => {
    answers = [[{ tool: 'read_file', id: 'tu-r', input: { path: 'a.txt' } }]];
    tools.execute.mockImplementationOnce(async () => {
      throw new Error('replica killed');
    });
    await expect(loop.execute(run.id)).rejects.toThrow('replica killed');
    expect(intents).toEqual([]);

    answers = [[{ text: 'Read it.' }]];
    await loop.execute(run.id, 2);
    expect(tools.execute).toHaveBeenCalledTimes(2);
    expect(steps.find((s) => s.kind === 'tool_call')?.data).toMatchObject({ toolUseId: 'tu-r', output: 'wrote tu-r', isError: false });
    expect(finished).toEqual([{ status: 'completed', fields: expect.objectContaining({ reply: 'Read it.' }) }]);
  });

  it('ends a round whose tools only read at HEAD, without git add and commit', async () => {
    answers = [
      [
        { tool: 'read_file', id: 'tu-r', input: { path: 'a.txt' } },
        { tool: 'search_files', id: 'tu-s', input: { query: 'x' } },
      ],
      [{ text: 'It says x.' }],
    ];
    await loop.execute(run.id);

    expect(kinds()).toEqual(['run_started', 'model_call', 'tool_call', 'tool_call', 'model_call', 'commit', 'run_completed']);
    expect(git.commit).not.toHaveBeenCalled();
    expect(git.head).toHaveBeenCalledTimes(2);
    expect(steps.find((s) => s.kind === 'commit')?.data).toEqual({ sha: 'a'.repeat(40), created: false });
    expect(finished).toEqual([{ status: 'completed', fields: expect.objectContaining({ commitSha: 'a'.repeat(40), reply: 'It says x.' }) }]);
  });

  it('commits a round in which a writing tool failed: a failing command may still have written', async () => {
    answers = [
      [
        { tool: 'read_file', id: 'tu-r', input: { path: 'a.txt' } },
        { tool: 'run_command', id: 'tu-c', input: { command: 'npm i' } },
      ],
      [{ text: 'It failed.' }],
    ];
    tools.execute.mockImplementation(async (c: { toolUseId: string; name: string }) =>
      create(toolV1.ToolCallResponseSchema, { output: c.name === 'run_command' ? 'exit 1' : 'ok', isError: c.name === 'run_command', toolUseId: c.toolUseId }),
    );
    await loop.execute(run.id);

    expect(git.commit).toHaveBeenCalledTimes(1);
    expect(finished[0]).toMatchObject({ status: 'completed', fields: { commitSha: 'b'.repeat(40) } });
  });

  it('rolls back to the commit it started from when the agent goes in circles', async () => {
    const same: Block[] = [{ tool: 'write_file', id: 'x', input: { path: 'a.txt', content: 'same' } }];
    answers = [1, 2, 3, 4, 5].map((i) => same.map((b) => ({ ...b, id: `tu-${i}` })));
    tools.execute.mockImplementation(async (c: { toolUseId: string }) =>
      create(toolV1.ToolCallResponseSchema, { output: 'failed', isError: true, errorCode: 'X', toolUseId: c.toolUseId }),
    );
    await loop.execute(run.id);

    expect(git.restore).toHaveBeenCalledWith(run, 'a'.repeat(40), expect.stringContaining('loop detected'), expect.anything());
    expect(finished[0]).toMatchObject({ status: 'failed', fields: { errorCode: ErrorCode.RUN_LOOP_DETECTED, commitSha: 'c'.repeat(40) } });
    expect(git.commit).not.toHaveBeenCalled();
  });

  it('refuses before any model call when the estimate is over the run budget', async () => {
    const poor = orchestratorEnvSchema.parse({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', RUN_COST_BUDGET_USD: '0.000001' });
    Object.assign(env, { RUN_COST_BUDGET_USD: poor.RUN_COST_BUDGET_USD });
    try {
      await loop.execute(run.id);
    } finally {
      Object.assign(env, { RUN_COST_BUDGET_USD: 5 });
    }
    expect(ai.complete).not.toHaveBeenCalled();
    expect(finished[0]).toMatchObject({ status: 'failed', fields: { errorCode: ErrorCode.RUN_BUDGET_EXCEEDED } });
  });

  it('refuses before any model call when the team’s spend read with the claim is at its daily budget', async () => {
    teamSpentUsd = env.TEAM_DAILY_COST_BUDGET_USD;
    await loop.execute(run.id);
    expect(ai.complete).not.toHaveBeenCalled();
    expect(finished[0]).toMatchObject({ status: 'failed', fields: { errorCode: ErrorCode.RUN_BUDGET_EXCEEDED } });
    expect(String(finished[0]?.fields['errorMessage'])).toMatch(/daily budget/);
    // The claim's figure, not a read of its own.
    expect(runs.teamSpendOn).not.toHaveBeenCalled();
  });

  it('commits without waiting for the WAL flush only what is simply done again when lost: a read, the start', async () => {
    answers = [
      [
        { tool: 'read_file', id: 'tu-r', input: { path: 'a.txt' } },
        { tool: 'write_file', id: 'tu-w', input: { path: 'b.txt', content: 'x' } },
      ],
      [{ text: 'Done.' }],
    ];
    await loop.execute(run.id);

    expect(commitModes).toEqual([
      'run_started: not flushed',
      // The reply that cost tokens, a writing call's result and everything after stay durable.
      'model_call: durable',
      'tool_call read_file: not flushed',
      'tool_call write_file: durable',
      'model_call: durable',
      'commit: durable',
      'run_completed: durable',
    ]);
    expect(intents.map((i) => i.name)).toEqual(['write_file']);
  });

  it('starts a read-only call while the reply that asked for it is checkpointed, and a writing call only after', async () => {
    answers = [
      [{ tool: 'read_file', id: 'tu-r', input: { path: 'a.txt' } }],
      [{ tool: 'write_file', id: 'tu-w', input: { path: 'b.txt' } }],
      [{ text: 'Done.' }],
    ];
    const appendStep = runs.appendFencedStep as jest.Mock;
    const write = appendStep.getMockImplementation()!;
    // What the tool-runner had been asked when each model checkpoint was about to be written.
    const executedBeforeDurable: string[][] = [];
    appendStep.mockImplementation(async (s: FencedStep) => {
      if (s.kind !== 'model_call') return write(s);
      await new Promise((r) => setTimeout(r, 20));
      executedBeforeDurable.push(tools.execute.mock.calls.map((c) => (c[0] as { toolUseId: string }).toolUseId));
      return write(s);
    });
    await loop.execute(run.id);

    expect(executedBeforeDurable).toEqual([['tu-r'], ['tu-r'], ['tu-r', 'tu-w']]);
    expect(kinds()).toEqual(['run_started', 'model_call', 'tool_call', 'model_call', 'tool_call', 'model_call', 'commit', 'run_completed']);
    expect(finished).toEqual([{ status: 'completed', fields: expect.objectContaining({ reply: 'Done.' }) }]);
  });

  it('sends every model request with the bytes of a fresh encode, each turn encoded once and kept frozen', async () => {
    answers = [
      [{ text: 'Reading é' }, { tool: 'read_file', id: 'tu-r', input: { path: 'a.txt' } }],
      [{ tool: 'write_file', id: 'tu-w', input: { path: 'b.txt' } }],
      [{ text: 'Done.' }],
    ];
    const complete = ai.complete.getMockImplementation()!;
    const sent: Array<{ bytes: Uint8Array; fresh: Uint8Array; frozen: boolean[] }> = [];
    ai.complete.mockImplementation(async (req: CompletionRequest) => {
      // What the bus client writes, against protobuf-es' own encoder walking the whole request.
      const fresh = toBinary(aiV1.CompletionRequestSchema, create(aiV1.CompletionRequestSchema, req));
      sent.push({ bytes: encodeMessage(aiV1.CompletionRequestSchema, req), fresh, frozen: [...req.messages!, ...req.tools!].map((m) => Object.isFrozen(m)) });
      return complete(req);
    });
    await loop.execute(run.id);

    expect(sent).toHaveLength(3);
    for (const request of sent) {
      expect(Buffer.from(request.bytes).equals(Buffer.from(request.fresh))).toBe(true);
      expect(request.frozen.every(Boolean)).toBe(true);
    }
    expect(seen.map((r) => r.messages.length)).toEqual([1, 3, 5]);
  });

  it('writes no result of a read that left before its reply was checkpointed when that checkpoint fails', async () => {
    answers = [[{ tool: 'read_file', id: 'tu-r', input: { path: 'a.txt' } }]];
    const appendStep = runs.appendFencedStep as jest.Mock;
    const write = appendStep.getMockImplementation()!;
    // Another replica took the run over: the model checkpoint is refused.
    appendStep.mockImplementation(async (s: FencedStep) => (s.kind === 'model_call' ? null : write(s)));
    await loop.execute(run.id);

    expect(tools.execute).toHaveBeenCalledTimes(1);
    expect(kinds()).toEqual(['run_started']);
    expect(finished).toEqual([]);
    expect(git.commit).not.toHaveBeenCalled();
  });

  it("makes the next model call while a read's result is written, and writes the result before that reply", async () => {
    answers = [[{ tool: 'read_file', id: 'tu-r', input: { path: 'a.txt' } }], [{ text: 'Done.' }]];
    const appendStep = runs.appendFencedStep as jest.Mock;
    const write = appendStep.getMockImplementation()!;
    // Model calls made while the read's result was still being written.
    let resultPending = false;
    const calledDuringWrite: boolean[] = [];
    const complete = ai.complete.getMockImplementation()!;
    ai.complete.mockImplementation(async (req: (typeof seen)[number]) => {
      calledDuringWrite.push(resultPending);
      return complete(req);
    });
    appendStep.mockImplementation(async (s: FencedStep) => {
      if (s.kind !== 'tool_call') return write(s);
      resultPending = true;
      await new Promise((r) => setTimeout(r, 20));
      resultPending = false;
      return write(s);
    });
    await loop.execute(run.id);

    expect(calledDuringWrite).toEqual([false, true]);
    expect(kinds()).toEqual(['run_started', 'model_call', 'tool_call', 'model_call', 'commit', 'run_completed']);
    expect(seen[1]?.messages.at(-1)?.content[0]?.block).toMatchObject({ case: 'toolResult', value: { content: 'wrote tu-r' } });
  });

  it("checkpoints no further reply when a read's result could not be written (the run is no longer ours)", async () => {
    answers = [[{ tool: 'read_file', id: 'tu-r', input: { path: 'a.txt' } }], [{ text: 'Done.' }]];
    const appendStep = runs.appendFencedStep as jest.Mock;
    const write = appendStep.getMockImplementation()!;
    // Another replica took the run over while the read ran: its result is refused (a moment later).
    appendStep.mockImplementation(async (s: FencedStep) => {
      if (s.kind !== 'tool_call') return write(s);
      await new Promise((r) => setTimeout(r, 20));
      return null;
    });
    await loop.execute(run.id);

    // The next model call had left beside the write (as one in flight when a lease lapses does); its reply is not recorded.
    expect(ai.complete).toHaveBeenCalledTimes(2);
    expect(kinds()).toEqual(['run_started', 'model_call']);
    expect(finished).toEqual([]);
    expect(git.commit).not.toHaveBeenCalled();
  });

  it('waits out a bus outage before a tool call left, and calls one lost while waiting "outcome unknown"', async () => {
    answers = [
      [{ tool: 'write_file', id: 'tu-1', input: { path: 'a.txt' } }],
      [{ tool: 'write_file', id: 'tu-2', input: { path: 'b.txt' } }],
      [{ text: 'Done.' }],
    ];
    const wrote = tools.execute.getMockImplementation()!;
    tools.execute
      // The bus was down when the first call was made: nothing left, so it is sent again.
      .mockRejectedValueOnce(new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, 'The message bus (NATS) is unreachable', { sent: 'no' }))
      .mockImplementationOnce(wrote)
      // The second was sent, then the link dropped before the answer: it may have run.
      .mockRejectedValueOnce(new AppError(ErrorCode.DEPENDENCY_UNAVAILABLE, 'The message bus (NATS) is unreachable'));
    await loop.execute(run.id);

    expect(tools.execute.mock.calls.map((c) => (c[0] as { toolUseId: string }).toolUseId)).toEqual(['tu-1', 'tu-1', 'tu-2']);
    const calls = steps.filter((s) => s.kind === 'tool_call').map((s) => s.data);
    expect(calls[0]).toMatchObject({ toolUseId: 'tu-1', output: 'wrote tu-1', isError: false });
    expect(calls[1]).toMatchObject({ toolUseId: 'tu-2', inDoubt: true, isError: true });
    expect(finished).toEqual([{ status: 'completed', fields: expect.objectContaining({ reply: 'Done.' }) }]);
  });

  it('stops with a dependency error and rolls back when tool-runner stays unavailable', async () => {
    answers = [[{ tool: 'write_file', id: 'tu-1', input: { path: 'a.txt' } }]];
    tools.execute.mockRejectedValue(new AppError(ErrorCode.RPC_NO_RESPONDERS, 'no responders'));
    await loop.execute(run.id);

    expect(tools.execute.mock.calls.length).toBe(env.RUN_RETRY_ATTEMPTS);
    expect(finished[0]).toMatchObject({ status: 'failed', fields: { errorCode: ErrorCode.RUN_TOOLS_UNAVAILABLE } });
    expect(git.restore).toHaveBeenCalledTimes(1);
  });
});
