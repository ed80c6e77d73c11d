import type { ToolDefinition } from './tool-definition';
import { readFileTool, writeFileTool } from './file-tools';

// The enabled tools. The full catalog of the seed's tools.yml lands with the tool-runner issue.
export const TOOL_CATALOG: ReadonlyArray<ToolDefinition<never>> = [writeFileTool, readFileTool] as ReadonlyArray<ToolDefinition<never>>;
