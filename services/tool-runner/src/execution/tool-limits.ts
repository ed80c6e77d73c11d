import type { ToolLimits } from '../catalog/tool-definition';
import type { ToolRunnerEnv } from '../config';

export function toolLimits(
  env: Pick<
    ToolRunnerEnv,
    'TOOL_MAX_FILE_SIZE_BYTES' | 'TOOL_MAX_SEARCH_RESULTS' | 'TOOL_MAX_IMAGE_PIXELS' | 'TOOL_SEARCH_TIMEOUT_MS' | 'TOOL_FETCH_MAX_BYTES'
  >,
): ToolLimits {
  return {
    maxFileBytes: env.TOOL_MAX_FILE_SIZE_BYTES,
    maxSearchResults: env.TOOL_MAX_SEARCH_RESULTS,
    maxImage: env.TOOL_MAX_IMAGE_PIXELS,
    searchTimeoutMs: env.TOOL_SEARCH_TIMEOUT_MS,
    fetchMaxBytes: env.TOOL_FETCH_MAX_BYTES,
  };
}
