import type { AnalyticsRepository } from '../delegation/analytics.repository';
import type { GitServiceRepository } from '../delegation/git-service.repository';
import type { ImageGenerationRepository } from '../delegation/image-generation.repository';
import type { RunEventsRepository } from '../delegation/run-events.repository';
import type { NpmRegistryRepository } from '../dependencies/npm-registry.repository';
import type { GuardedHttpClient } from '../network/guarded-http.client';
import type { WebSearchRepository } from '../network/web-search.repository';
import type { WorkspaceSearchRepository } from '../search/workspace-search.repository';
import type { WorkspaceReader, WorkspaceWriter } from '../workspace/workspace';
import type { ToolName } from './tool-names';

export interface ToolLimits {
  maxFileBytes: number;
  maxSearchResults: number;
  maxImage: { width: number; height: number };
  searchTimeoutMs: number;
  fetchMaxBytes: number;
}

export interface ToolCall {
  teamId: string;
  appId: string;
  runId: string;
  toolUseId: string;
}

// The I/O a tool may use: repositories only, injected by the execution service.
export interface ToolDependencies {
  search: WorkspaceSearchRepository;
  http: GuardedHttpClient;
  webSearch: WebSearchRepository;
  npm: NpmRegistryRepository;
  git: GitServiceRepository;
  analytics: AnalyticsRepository;
  images: ImageGenerationRepository;
  runEvents: RunEventsRepository;
}

export interface ToolContext {
  call: ToolCall;
  limits: ToolLimits;
  workspace: WorkspaceReader;
  // The only way to change the workspace: under the app's write lock in Redis, so replicas
  // never interleave writes to one app. Network work belongs before it, not inside.
  withWriteLock<T>(work: (writer: WorkspaceWriter) => Promise<T>): Promise<T>;
  deps: ToolDependencies;
}

export interface ToolOutcome {
  output: string;
  bytesWritten?: number;
}

// Who serializes a tool's changes to the app: tool-runner (through withWriteLock), the service
// it delegates to (git-service takes the same Redis lock itself), or nobody (reads).
export type ToolWrites = 'workspace' | 'delegated' | 'none';

export type JsonSchema = Record<string, unknown>;

// One definition per tool: the JSON schema the model gets, the input validation and the docs
// (docs/tool-runner.md) are all derived from it. Schema and description may quote the limits.
export interface ToolDefinition<Input = Record<string, unknown>> {
  name: ToolName;
  description(limits: ToolLimits): string;
  inputSchema(limits: ToolLimits): JsonSchema;
  writes: ToolWrites;
  // Where the tool's work is done when not here (docs and reports).
  delegatesTo?: string;
  run(input: Input, ctx: ToolContext): Promise<ToolOutcome>;
}

// Lets each tool file declare its input type while the catalog holds them side by side.
export function defineTool<Input>(def: ToolDefinition<Input>): ToolDefinition<never> {
  return def as unknown as ToolDefinition<never>;
}
