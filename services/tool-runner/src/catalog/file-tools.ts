import { AppError, ErrorCode } from '@overskill/contracts';
import { defineTool } from './tool-definition';

const pathProperty = (description = 'Path relative to the app root, e.g. src/index.html') => ({ type: 'string', minLength: 1, maxLength: 512, description });

export const readFileTool = defineTool<{ path: string; start_line?: number; end_line?: number; line_numbers?: boolean }>({
  name: 'read_file',
  description: (limits) =>
    `Read a text file from the app workspace (up to ${limits.maxFileBytes} bytes). Give start_line/end_line to read part of a long file; line_numbers prefixes each line with its number (useful before line_replace).`,
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: pathProperty(),
      start_line: { type: 'integer', minimum: 1, description: 'First line to return (1-based)' },
      end_line: { type: 'integer', minimum: 1, description: 'Last line to return (inclusive)' },
      line_numbers: { type: 'boolean', description: 'Prefix every line with its number' },
    },
  }),
  writes: 'none',
  async run(input, ctx) {
    const { relative, content } = await ctx.workspace.read(input.path);
    if (content.subarray(0, 8192).includes(0)) return { output: `${relative} is a binary file (${content.length} bytes); read_file shows text only.` };
    const text = content.toString('utf8');
    if (input.start_line === undefined && input.end_line === undefined && !input.line_numbers) return { output: text };
    const lines = splitLines(text).lines;
    const start = input.start_line ?? 1;
    const end = Math.min(input.end_line ?? lines.length, lines.length);
    if (start > lines.length) return { output: `${relative} has ${lines.length} lines; nothing from line ${start}.` };
    if (end < start) throw new AppError(ErrorCode.TOOL_INPUT_INVALID, `end_line (${end}) is before start_line (${start})`);
    const width = String(end).length;
    const picked = lines.slice(start - 1, end).map((line, i) => (input.line_numbers ? `${String(start + i).padStart(width)}| ${line}` : line));
    return { output: picked.join('\n') };
  },
});

export const writeFileTool = defineTool<{ path: string; content: string }>({
  name: 'write_file',
  description: (limits) =>
    `Create or overwrite a text file in the app workspace (at most ${limits.maxFileBytes} bytes). Parent folders are created. Prefer update_file or line_replace for small changes to an existing file.`,
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    required: ['path', 'content'],
    properties: {
      path: pathProperty(),
      content: { type: 'string', description: 'The full new content of the file' },
    },
  }),
  writes: 'workspace',
  async run(input, ctx) {
    const content = Buffer.from(input.content, 'utf8');
    const { relative, created } = await ctx.withWriteLock((w) => w.write(input.path, content));
    return { output: `Wrote ${relative} (${content.length} bytes${created ? ', new file' : ''})`, bytesWritten: content.length };
  },
});

export const updateFileTool = defineTool<{ path: string; search: string; replace: string; replace_all?: boolean }>({
  name: 'update_file',
  description: () =>
    'Replace an exact piece of text in a file. `search` must appear exactly once (include a few surrounding lines to make it unique) unless replace_all is true. Whitespace and indentation must match.',
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    required: ['path', 'search', 'replace'],
    properties: {
      path: pathProperty(),
      search: { type: 'string', minLength: 1, description: 'The exact text to find' },
      replace: { type: 'string', description: 'The text to put in its place' },
      replace_all: { type: 'boolean', description: 'Replace every occurrence instead of requiring exactly one' },
    },
  }),
  writes: 'workspace',
  async run(input, ctx) {
    return ctx.withWriteLock(async (w) => {
      const { relative, text } = await w.readText(input.path);
      let search = input.search;
      let replace = input.replace;
      let count = countOccurrences(text, search);
      // The model writes \n; a CRLF file still matches, and keeps its line endings.
      if (count === 0 && text.includes('\r\n') && search.includes('\n') && !search.includes('\r\n')) {
        search = search.replace(/\n/g, '\r\n');
        replace = replace.replace(/\r?\n/g, '\r\n');
        count = countOccurrences(text, search);
      }
      if (count === 0)
        throw new AppError(
          ErrorCode.TOOL_EDIT_NO_MATCH,
          `The search text was not found in ${relative}; read the file again and copy the text exactly (whitespace included)`,
        );
      if (count > 1 && !input.replace_all) {
        throw new AppError(
          ErrorCode.TOOL_EDIT_AMBIGUOUS,
          `The search text appears ${count} times in ${relative}; include surrounding lines to make it unique, or set replace_all`,
        );
      }
      const firstLine = text.slice(0, text.indexOf(search)).split('\n').length;
      const updated = input.replace_all ? text.split(search).join(replace) : replaceFirst(text, search, replace);
      const content = Buffer.from(updated, 'utf8');
      await w.write(relative, content);
      return {
        output: `Updated ${relative}: replaced ${input.replace_all ? count : 1} occurrence${count > 1 && input.replace_all ? 's' : ''} (first at line ${firstLine})`,
        bytesWritten: content.length,
      };
    });
  },
});

export const lineReplaceTool = defineTool<{ path: string; first_line: number; last_line: number; old_lines: string; new_lines: string }>({
  name: 'line_replace',
  description: () =>
    'Replace lines first_line..last_line (1-based, inclusive) of a file. old_lines must be the current content of those lines, checked before anything changes; for a long range, a line of just "..." may stand for the unchanged middle. new_lines may be empty to delete the lines.',
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    required: ['path', 'first_line', 'last_line', 'old_lines', 'new_lines'],
    properties: {
      path: pathProperty(),
      first_line: { type: 'integer', minimum: 1 },
      last_line: { type: 'integer', minimum: 1 },
      old_lines: { type: 'string', description: 'The lines being replaced, exactly as they are now' },
      new_lines: { type: 'string', description: 'The replacement lines' },
    },
  }),
  writes: 'workspace',
  async run(input, ctx) {
    if (input.last_line < input.first_line)
      throw new AppError(ErrorCode.TOOL_INPUT_INVALID, `last_line (${input.last_line}) is before first_line (${input.first_line})`);
    return ctx.withWriteLock(async (w) => {
      const { relative, text } = await w.readText(input.path);
      const { lines, eol, finalNewline } = splitLines(text);
      if (input.last_line > lines.length) {
        throw new AppError(ErrorCode.TOOL_LINES_MISMATCH, `${relative} has ${lines.length} lines; lines ${input.first_line}-${input.last_line} do not exist`);
      }
      const current = lines.slice(input.first_line - 1, input.last_line);
      if (!linesMatch(current, splitLines(input.old_lines).lines)) {
        const shown = current.map((line, i) => `${input.first_line + i}| ${line}`).join('\n');
        throw new AppError(
          ErrorCode.TOOL_LINES_MISMATCH,
          `Lines ${input.first_line}-${input.last_line} of ${relative} are not what old_lines says; nothing was changed. They are now:\n${shown}`,
        );
      }
      const replacement = input.new_lines === '' ? [] : splitLines(input.new_lines).lines;
      const updated = [...lines.slice(0, input.first_line - 1), ...replacement, ...lines.slice(input.last_line)];
      const content = Buffer.from(updated.join(eol) + (finalNewline && updated.length > 0 ? eol : ''), 'utf8');
      await w.write(relative, content);
      return {
        output: `Replaced lines ${input.first_line}-${input.last_line} of ${relative} with ${replacement.length} line${replacement.length === 1 ? '' : 's'}`,
        bytesWritten: content.length,
      };
    });
  },
});

export const deleteFileTool = defineTool<{ path: string }>({
  name: 'delete_file',
  description: () => 'Delete a file from the app workspace (folders are not deleted).',
  inputSchema: () => ({ type: 'object', additionalProperties: false, required: ['path'], properties: { path: pathProperty() } }),
  writes: 'workspace',
  async run(input, ctx) {
    const relative = await ctx.withWriteLock((w) => w.delete(input.path));
    return { output: `Deleted ${relative}` };
  },
});

export const renameFileTool = defineTool<{ from: string; to: string; overwrite?: boolean }>({
  name: 'rename_file',
  description: () =>
    'Rename or move a file or folder inside the app workspace. Missing folders on the way are created; an existing target is refused unless overwrite is true (files only).',
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    required: ['from', 'to'],
    properties: {
      from: pathProperty('Current path, relative to the app root'),
      to: pathProperty('New path, relative to the app root'),
      overwrite: { type: 'boolean', description: 'Replace an existing file at the new path' },
    },
  }),
  writes: 'workspace',
  async run(input, ctx) {
    const moved = await ctx.withWriteLock((w) => w.rename(input.from, input.to, input.overwrite ?? false));
    return { output: `Renamed ${moved.from} to ${moved.to}` };
  },
});

export function splitLines(text: string): { lines: string[]; eol: string; finalNewline: boolean } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const finalNewline = text.endsWith('\n');
  const body = finalNewline ? text.slice(0, text.endsWith('\r\n') ? -2 : -1) : text;
  return { lines: body === '' && finalNewline ? [''] : body.split(/\r?\n/), eol, finalNewline };
}

// A line of just "..." in `expected` skips any number of lines (the unchanged middle of a range).
function linesMatch(actual: string[], expected: string[]): boolean {
  const gap = expected.findIndex((line) => line.trim() === '...');
  if (gap === -1) return actual.length === expected.length && actual.every((line, i) => line === expected[i]);
  const head = expected.slice(0, gap);
  const tail = expected.slice(gap + 1);
  if (head.length + tail.length > actual.length) return false;
  return head.every((line, i) => actual[i] === line) && tail.every((line, i) => actual[actual.length - tail.length + i] === line);
}

function countOccurrences(text: string, search: string): number {
  let count = 0;
  for (let at = text.indexOf(search); at !== -1; at = text.indexOf(search, at + search.length)) count += 1;
  return count;
}

function replaceFirst(text: string, search: string, replace: string): string {
  const at = text.indexOf(search);
  return text.slice(0, at) + replace + text.slice(at + search.length);
}
