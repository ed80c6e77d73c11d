import { AppError, ErrorCode } from '@overskill/contracts';
import type { ServiceMetrics } from '@overskill/observability';
import { DEFAULT_CACHE_CONFIG, LeveledCache, type AppLease, type AppWriteLock } from '@overskill/persistence';
import Redis from 'ioredis';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { ToolDependencies } from '../catalog/tool-definition';
import { toolRunnerEnvSchema, type ToolRunnerEnv } from '../config';
import type { ToolExecutedFacts } from '../delegation/run-events.repository';
import { WorkspaceSearchRepository } from '../search/workspace-search.repository';
import { WorkspaceFilesRepository } from '../workspace/workspace-files.repository';
import { ToolExecutionService } from '../execution/tool-execution.service';

export const APP_ID = '0b7f4c1e-2d3a-4b5c-8d9e-0f1a2b3c4d5e';

// A dependency no test expected to be used fails loudly, like a strict automock.
export function unexpected<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get: (_target, prop) => {
      if (prop === 'then') return undefined;
      return () => {
        throw new Error(`unexpected call to ${name}.${String(prop)}`);
      };
    },
  });
}

export interface ToolReply {
  toolUseId: string;
  output: string;
  isError: boolean;
  errorCode: string;
  bytesWritten: bigint;
}

export interface Harness {
  service: ToolExecutionService;
  env: ToolRunnerEnv;
  root: string;
  base: string;
  registry: Registry;
  events: ToolExecutedFacts[];
  progress: Array<{ runId: string; message: string }>;
  locks: string[];
  run(name: string, input: unknown): Promise<ToolReply>;
  close(): void;
}

export function createHarness(
  opts: { env?: Record<string, string>; deps?: Partial<ToolDependencies>; lock?: AppWriteLock; cache?: LeveledCache } = {},
): Harness {
  const base = mkdtempSync(join(tmpdir(), 'tool-spec-'));
  const root = join(base, 'workspaces', APP_ID);
  mkdirSync(root, { recursive: true });
  const env = toolRunnerEnvSchema.parse({ WORKSPACES_DIR: join(base, 'workspaces'), TOOL_NPM_LOOKUP: 'false', ...opts.env });
  const events: ToolExecutedFacts[] = [];
  const progress: Array<{ runId: string; message: string }> = [];
  const locks: string[] = [];
  const lock =
    opts.lock ??
    ({
      withLock: async <T>(appId: string, work: (lease: AppLease) => Promise<T>) => {
        locks.push(appId);
        return work({ signal: new AbortController().signal, assertHeld: async () => undefined });
      },
    } as unknown as AppWriteLock);
  const deps: ToolDependencies = {
    search: new WorkspaceSearchRepository(env),
    http: unexpected('http'),
    webSearch: unexpected('webSearch'),
    npm: unexpected('npm'),
    git: unexpected('git'),
    analytics: unexpected('analytics'),
    images: unexpected('images'),
    runEvents: {
      broadcastProgress: (runId: string, message: string) => void progress.push({ runId, message }),
      toolExecuted: async (facts: ToolExecutedFacts) => {
        events.push(facts);
        return 'event-id';
      },
    } as unknown as ToolDependencies['runEvents'],
    ...opts.deps,
  };
  const registry = new Registry();
  // By default never connected: every read goes to disk.
  const cache = opts.cache ?? new LeveledCache(new Redis({ lazyConnect: true }), DEFAULT_CACHE_CONFIG, new Registry());
  const service = new ToolExecutionService(env, new WorkspaceFilesRepository(), lock, deps, { registry } as ServiceMetrics, pino({ level: 'silent' }), cache);
  let n = 0;
  return {
    service,
    env,
    root,
    base,
    registry,
    events,
    progress,
    locks,
    run: async (name, input) => {
      const reply = await service.execute({
        $typeName: 'overskill.tool.v1.ToolCallRequest',
        teamId: 'team-1',
        appId: APP_ID,
        runId: 'run-1',
        toolUseId: `tu-${++n}`,
        name,
        inputJson: typeof input === 'string' ? input : JSON.stringify(input),
      });
      // The execution's event goes out once the reply is on its way.
      await new Promise((resolve) => setImmediate(resolve));
      return {
        toolUseId: reply.toolUseId ?? '',
        output: reply.output ?? '',
        isError: reply.isError ?? false,
        errorCode: reply.errorCode ?? '',
        bytesWritten: reply.bytesWritten ?? 0n,
      };
    },
    close: () => rmSync(base, { recursive: true, force: true }),
  };
}

export const busyLock = {
  withLock: async () => {
    throw new AppError(ErrorCode.APP_BUSY, `App ${APP_ID} is busy with another change; try again`);
  },
} as unknown as AppWriteLock;
