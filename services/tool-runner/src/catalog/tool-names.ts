// The seed's config/tools.yml enabled_tools, in its order: the whole catalog.
export const TOOL_NAMES = [
  'read_file',
  'write_file',
  'update_file',
  'line_replace',
  'delete_file',
  'rename_file',
  'search_files',
  'read_console_logs',
  'read_network_requests',
  'add_dependency',
  'remove_dependency',
  'web_search',
  'download_to_repo',
  'fetch_website',
  'broadcast_progress',
  'generate_image',
  'edit_image',
  'read_analytics',
  'git_status',
  'git_commit',
  'git_branch',
  'git_diff',
  'git_log',
] as const;

export type ToolName = (typeof TOOL_NAMES)[number];
