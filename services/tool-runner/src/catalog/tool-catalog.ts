import { addDependencyTool, removeDependencyTool } from './dependency-tools';
import { deleteFileTool, lineReplaceTool, readFileTool, renameFileTool, updateFileTool, writeFileTool } from './file-tools';
import { gitBranchTool, gitCommitTool, gitDiffTool, gitLogTool, gitStatusTool } from './git-tools';
import { editImageTool, generateImageTool } from './image-tools';
import { readAnalyticsTool, readConsoleLogsTool, readNetworkRequestsTool } from './preview-tools';
import { broadcastProgressTool } from './progress-tool';
import { searchFilesTool } from './search-tool';
import type { ToolDefinition } from './tool-definition';
import { TOOL_NAMES, type ToolName } from './tool-names';
import { downloadToRepoTool, fetchWebsiteTool, webSearchTool } from './web-tools';

const ALL_TOOLS: ReadonlyArray<ToolDefinition<never>> = [
  readFileTool,
  writeFileTool,
  updateFileTool,
  lineReplaceTool,
  deleteFileTool,
  renameFileTool,
  searchFilesTool,
  readConsoleLogsTool,
  readNetworkRequestsTool,
  addDependencyTool,
  removeDependencyTool,
  webSearchTool,
  downloadToRepoTool,
  fetchWebsiteTool,
  broadcastProgressTool,
  generateImageTool,
  editImageTool,
  readAnalyticsTool,
  gitStatusTool,
  gitCommitTool,
  gitBranchTool,
  gitDiffTool,
  gitLogTool,
];

// The whole catalog in the seed's order, one definition per name.
export const TOOL_CATALOG: ReadonlyMap<ToolName, ToolDefinition<never>> = new Map(
  TOOL_NAMES.map((name) => {
    const def = ALL_TOOLS.find((tool) => tool.name === name);
    if (!def) throw new Error(`tool ${name} has no definition`);
    return [name, def];
  }),
);

export function enabledTools(names: readonly ToolName[]): Array<ToolDefinition<never>> {
  return [...TOOL_CATALOG.values()].filter((def) => names.includes(def.name));
}
