import { AppError, ErrorCode } from '@overskill/contracts';
import { decodePageText } from '../network/decode-page-text';
import type * as HtmlToMarkdown from '../network/html-to-markdown';
import { defineTool } from './tool-definition';

const urlProperty = { type: 'string', minLength: 1, maxLength: 2048, description: 'An http:// or https:// URL' };

const PAGE_TYPES = new Set(['text/html', 'application/xhtml+xml', 'text/plain', 'text/markdown', 'text/x-markdown']);

// What download_to_repo stores: assets an app uses. Archives and executables are refused.
function isDownloadableType(mediaType: string): boolean {
  if (/^(image|font|audio|video|text)\//.test(mediaType)) return true;
  if (/^application\/([\w.-]+\+)?(json|xml)$/.test(mediaType)) return true;
  return [
    'application/javascript',
    'application/pdf',
    'application/wasm',
    'application/octet-stream',
    'application/font-woff',
    'application/x-font-ttf',
    'application/x-font-otf',
    'application/vnd.ms-fontobject',
  ].includes(mediaType);
}

export const webSearchTool = defineTool<{ query: string; count?: number }>({
  name: 'web_search',
  description: () => "Search the web with the platform's configured search provider. Returns titles, URLs and snippets; read a page with fetch_website.",
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    required: ['query'],
    properties: {
      query: { type: 'string', minLength: 1, maxLength: 400 },
      count: { type: 'integer', minimum: 1, maximum: 10, description: 'How many results (default 5)' },
    },
  }),
  writes: 'none',
  async run(input, ctx) {
    const results = await ctx.deps.webSearch.search(input.query, input.count ?? 5);
    if (results.length === 0) return { output: `No results for ${JSON.stringify(input.query)}.` };
    return { output: results.map((r, i) => `${i + 1}. ${r.title}\n   ${r.url}${r.snippet ? `\n   ${r.snippet}` : ''}`).join('\n') };
  },
});

export const fetchWebsiteTool = defineTool<{ url: string }>({
  name: 'fetch_website',
  description: (limits) =>
    `Fetch a public web page and return it as readable Markdown (title, headings, text, links, code, tables; no scripts or styles). HTML and plain text pages up to ${limits.fetchMaxBytes} bytes. Private, local and cloud-metadata addresses are refused.`,
  inputSchema: () => ({ type: 'object', additionalProperties: false, required: ['url'], properties: { url: urlProperty } }),
  writes: 'none',
  async run(input, ctx) {
    const page = await ctx.deps.http.get(input.url, {
      maxBytes: ctx.limits.fetchMaxBytes,
      accept: (type) => PAGE_TYPES.has(type),
      acceptHeader: 'text/html,application/xhtml+xml,text/plain;q=0.9,text/markdown;q=0.9',
      acceptDescription: 'HTML or plain-text pages',
    });
    const isHtml = page.mediaType === 'text/html' || page.mediaType === 'application/xhtml+xml';
    const text = decodePageText(page.body, page.charset, isHtml);
    const via = page.redirects.length ? ` (redirected from ${input.url})` : '';
    if (!isHtml) return { output: `Source: ${page.url}${via}\n\n${text}` };
    // Required on the first HTML page: its parser and converter are ~50 ms of the service's start otherwise.
    const { htmlToMarkdown } = require('../network/html-to-markdown') as typeof HtmlToMarkdown;
    const { title, markdown } = htmlToMarkdown(text, page.url);
    return { output: `${title ? `# ${title}\n\n` : ''}Source: ${page.url}${via}\n\n${markdown || '(the page has no readable text)'}` };
  },
});

export const downloadToRepoTool = defineTool<{ url: string; path: string; overwrite?: boolean }>({
  name: 'download_to_repo',
  description: (limits) =>
    `Download a file from a public URL into the app workspace (images, fonts, media, text, JSON, CSS/JS, PDF; at most ${limits.maxFileBytes} bytes). Archives and executables are refused; so are private, local and cloud-metadata addresses.`,
  inputSchema: () => ({
    type: 'object',
    additionalProperties: false,
    required: ['url', 'path'],
    properties: {
      url: urlProperty,
      path: { type: 'string', minLength: 1, maxLength: 512, description: 'Where to save it, relative to the app root, e.g. public/logo.png' },
      overwrite: { type: 'boolean', description: 'Replace an existing file' },
    },
  }),
  writes: 'workspace',
  async run(input, ctx) {
    // Refuse a bad or taken path before any network traffic.
    ctx.workspace.resolve(input.path);
    if (!input.overwrite && (await ctx.workspace.inspect(input.path)))
      throw new AppError(ErrorCode.TOOL_FILE_EXISTS, `${input.path} already exists; pass overwrite: true to replace it`);
    const file = await ctx.deps.http.get(input.url, {
      maxBytes: ctx.limits.maxFileBytes,
      accept: isDownloadableType,
      acceptHeader: '*/*',
      acceptDescription: 'images, fonts, audio/video, text, JSON/XML, JavaScript, PDF, WebAssembly or generic binary data (no archives or executables)',
    });
    // The network part is done: only the write happens under the app's lock.
    const written = await ctx.withWriteLock(async (w) => {
      if (!input.overwrite && (await w.inspect(input.path)))
        throw new AppError(ErrorCode.TOOL_FILE_EXISTS, `${input.path} already exists; pass overwrite: true to replace it`);
      return w.write(input.path, file.body);
    });
    return { output: `Downloaded ${file.url} to ${written.relative} (${file.body.length} bytes, ${file.mediaType})`, bytesWritten: file.body.length };
  },
});
