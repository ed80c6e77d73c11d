import type { WorkspaceFilesRepository } from '../workspace/workspace-files.repository';
import type { ToolRunnerEnv } from '../config';

export interface ToolContext {
  appId: string;
  runId: string;
  env: ToolRunnerEnv;
  files: WorkspaceFilesRepository;
}

export interface ToolOutcome {
  output: string;
  bytesWritten?: number;
}

// One definition per tool: the schema the model sees, the validation and the docs all come from it.
export interface ToolDefinition<Input = Record<string, unknown>> {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  mutates: boolean;
  run(input: Input, ctx: ToolContext): Promise<ToolOutcome>;
}
