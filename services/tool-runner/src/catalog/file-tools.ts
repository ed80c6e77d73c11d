import { resolveWorkspacePath } from '../workspace/resolve-workspace-path';
import type { ToolDefinition } from './tool-definition';

export const writeFileTool: ToolDefinition<{ path: string; content: string }> = {
  name: 'write_file',
  description: 'Create or overwrite a text file in the app workspace. Parent folders are created.',
  inputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['path', 'content'],
    properties: {
      path: { type: 'string', minLength: 1, maxLength: 512, description: 'Path relative to the app root, e.g. src/index.html' },
      content: { type: 'string', description: 'The full new content of the file' },
    },
  },
  mutates: true,
  async run(input, ctx) {
    const target = resolveWorkspacePath(ctx.env.WORKSPACES_DIR, ctx.appId, input.path, { forWrite: true });
    const content = Buffer.from(input.content, 'utf8');
    if (content.length > ctx.env.TOOL_MAX_FILE_SIZE_BYTES) {
      return { output: `Refused: ${content.length} bytes is over the ${ctx.env.TOOL_MAX_FILE_SIZE_BYTES}-byte file limit` };
    }
    await ctx.files.writeAtomic(target.root, target.absolute, content);
    return { output: `Wrote ${target.relative} (${content.length} bytes)`, bytesWritten: content.length };
  },
};

export const readFileTool: ToolDefinition<{ path: string }> = {
  name: 'read_file',
  description: 'Read a text file from the app workspace.',
  inputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: { path: { type: 'string', minLength: 1, maxLength: 512, description: 'Path relative to the app root' } },
  },
  mutates: false,
  async run(input, ctx) {
    const target = resolveWorkspacePath(ctx.env.WORKSPACES_DIR, ctx.appId, input.path, { forWrite: false });
    const content = await ctx.files.read(target.root, target.absolute, ctx.env.TOOL_MAX_FILE_SIZE_BYTES);
    return { output: content.toString('utf8') };
  },
};
