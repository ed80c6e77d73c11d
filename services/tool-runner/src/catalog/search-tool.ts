import { AppError, ErrorCode } from '@overskill/contracts';
import { compilePathFilter } from '../search/compile-glob';
import { compileLineMatcher } from '../search/line-matcher';
import { defineTool } from './tool-definition';

const MAX_CONTEXT_LINES = 10;
const MAX_LINE_CHARS = 300;
const PARALLEL_READS = 8;

interface SearchInput {
  pattern: string;
  path?: string;
  include?: string[];
  exclude?: string[];
  case_sensitive?: boolean;
  fixed_strings?: boolean;
  context_lines?: number;
}

export const searchFilesTool = defineTool<SearchInput>({
  name: 'search_files',
  description: (limits) =>
    `Search file contents with a regular expression (JavaScript syntax, one line at a time). include/exclude are .gitignore-style globs ("*.ts" at any depth, "src/**/*.tsx" from the app root). Shows at most ${limits.maxSearchResults} matching lines, sorted by path, with context_lines around each. .git and node_modules are never searched; binary files are skipped.`,
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    required: ['pattern'],
    properties: {
      pattern: { type: 'string', minLength: 1, maxLength: 1000, description: 'Regular expression, or plain text with fixed_strings' },
      path: { type: 'string', minLength: 1, maxLength: 512, description: 'Folder to search, relative to the app root (default: the whole app)' },
      include: { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 200 }, description: 'Only files matching one of these globs' },
      exclude: {
        type: 'array',
        maxItems: 20,
        items: { type: 'string', minLength: 1, maxLength: 200 },
        description: 'Skip files and folders matching these globs',
      },
      case_sensitive: { type: 'boolean', description: 'Default true' },
      fixed_strings: { type: 'boolean', description: 'Treat pattern as plain text' },
      context_lines: { type: 'integer', minimum: 0, maximum: MAX_CONTEXT_LINES, description: 'Lines of context before and after each match (default 0)' },
    },
  }),
  writes: 'none',
  async run(input, ctx) {
    const folder = ctx.workspace.resolve(input.path ?? '.', { allowRoot: true });
    const include = input.include ?? [];
    const exclude = input.exclude ?? [];
    let filter;
    try {
      filter = compilePathFilter(include, exclude);
    } catch (err) {
      throw new AppError(ErrorCode.TOOL_INPUT_INVALID, `Invalid glob: ${(err as Error).message}`);
    }
    const matcher = compileLineMatcher(input.pattern, {
      fixedStrings: input.fixed_strings ?? false,
      caseSensitive: input.case_sensitive ?? true,
      timeBudgetMs: ctx.limits.searchTimeoutMs,
    });
    const { files } = await ctx.deps.search.filesWithMatches({
      root: folder.root,
      folder: folder.relative,
      pattern: input.pattern,
      fixedStrings: input.fixed_strings ?? false,
      caseSensitive: input.case_sensitive ?? true,
      include,
      exclude,
      filter,
      matcher,
      maxFileBytes: ctx.limits.maxFileBytes,
    });

    // The lines themselves come from one place for either engine: files in path order, read
    // through the workspace's checked reads, matched with the same expression.
    const max = ctx.limits.maxSearchResults;
    const context = input.context_lines ?? 0;
    const blocks: string[] = [];
    let shown = 0;
    let filesShown = 0;
    let examined = 0;
    // Files are read a few at a time (the reads overlap), and consumed strictly in path order.
    for (let start = 0; start < files.length && shown < max; start += PARALLEL_READS) {
      const batch = files.slice(start, start + PARALLEL_READS);
      // Binary (a NUL past ripgrep's first block), linked, or gone since the search: not shown.
      const texts = await Promise.all(
        batch.map((path) =>
          ctx.workspace.readText(path).then(
            (r) => r.text,
            () => undefined,
          ),
        ),
      );
      for (const [i, path] of batch.entries()) {
        if (shown >= max) break;
        examined += 1;
        const text = texts[i];
        if (text === undefined) continue;
        const numbers = matcher.matchingLines(text, max - shown);
        if (numbers.length === 0) continue;
        shown += numbers.length;
        filesShown += 1;
        blocks.push(formatFile(path, text, numbers, context));
      }
    }
    const remainingFiles = files.length - examined;
    if (shown === 0) return { output: `No matches for ${JSON.stringify(input.pattern)}${folder.relative === '.' ? '' : ` in ${folder.relative}`}.` };
    const header = `${shown} matching line${shown === 1 ? '' : 's'} in ${filesShown} file${filesShown === 1 ? '' : 's'}`;
    const capped = shown >= max && remainingFiles > 0;
    const footer = capped
      ? `\n[truncated: showing the first ${max} matching lines; ${remainingFiles} more file${remainingFiles === 1 ? '' : 's'} also match. Narrow the pattern, path or include globs.]`
      : '';
    // Like grep: `--` separates runs only when there is context to separate.
    return { output: `${header}:\n${blocks.join(context > 0 ? '\n--\n' : '\n')}${footer}` };
  },
});

// grep's layout: `path:line: text` for a match, `path-line- text` for context, `--` between runs.
function formatFile(path: string, text: string, numbers: number[], context: number): string {
  const lines = text.split('\n');
  const matched = new Set(numbers);
  const wanted = new Set<number>();
  for (const n of numbers) for (let i = Math.max(1, n - context); i <= Math.min(lines.length, n + context); i++) wanted.add(i);
  const sorted = [...wanted].sort((a, b) => a - b);
  const out: string[] = [];
  let previous = 0;
  for (const n of sorted) {
    if (previous && n > previous + 1) out.push('--');
    const line = (lines[n - 1] ?? '').replace(/\r$/, '');
    const clipped = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}… [line is ${line.length} characters]` : line;
    out.push(matched.has(n) ? `${path}:${n}: ${clipped}` : `${path}-${n}- ${clipped}`);
    previous = n;
  }
  return out.join('\n');
}
