import vm from 'node:vm';
import { AppError, ErrorCode } from '@overskill/contracts';
import { NodeHtmlMarkdown, type TranslatorConfigFactory } from 'node-html-markdown';
import { defaultTreeAdapter, parse, serialize, type DefaultTreeAdapterMap, type TreeAdapter } from 'parse5';

// HTML to readable Markdown for fetch_website, on maintained parts: parse5 parses exactly as a
// browser does (implied end tags, misnested tags, every named character reference), and
// node-html-markdown writes the Markdown. This file picks the readable part, drops what must never
// reach the model, makes links absolute and safe, and hands the converter the page in pieces:
// its cost grows with the square of one call's output, so a 5 MB page in one call would take
// minutes. A hostile page can still make a parser work for long (parse5 is quadratic in nesting
// depth), so the whole conversion runs under a CPU deadline.

type AnyNode = DefaultTreeAdapterMap['node'];
type Node = DefaultTreeAdapterMap['childNode'];
type Element = DefaultTreeAdapterMap['element'];
type ParentNode = DefaultTreeAdapterMap['parentNode'];

// Never reach the model: active content, forms and embedded documents.
const DROPPED = new Set([
  'script',
  'style',
  'template',
  'noscript',
  'svg',
  'math',
  'canvas',
  'iframe',
  'object',
  'embed',
  'form',
  'button',
  'input',
  'select',
  'textarea',
  'dialog',
  'noembed',
  'noframes',
]);
// Page chrome, dropped when no <main> or <article> marks the content.
const BODY_NOISE = new Set(['nav', 'aside', 'footer']);
// An unclosed <b> or <font> on an old page wraps whole tables and lists once parsed as a browser
// does; emphasis around blocks is unwrapped so the Markdown of those blocks stays intact.
const INLINE_WRAPPERS = new Set(['b', 'strong', 'i', 'em', 'u', 's', 'font', 'span', 'small', 'big', 'center', 'a']);
const BLOCKS = new Set([
  'p',
  'div',
  'table',
  'ul',
  'ol',
  'dl',
  'pre',
  'blockquote',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'section',
  'article',
  'header',
  'hr',
  'figure',
  'main',
  'address',
  'details',
]);
const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);
const IMAGE_PROTOCOLS = new Set(['http:', 'https:']);

// Chromium's parser nests no deeper than this either: deeper elements become siblings.
const MAX_DEPTH = 512;
const CONVERSION_DEADLINE_MS = 10_000;

// One converter call gets at most about this much HTML; larger containers are split at their
// children, and larger tables and lists at their rows and items.
const PIECE_CHARS = 16_384;

const converter = new NodeHtmlMarkdown({
  bulletMarker: '-',
  codeBlockStyle: 'fenced',
  emDelimiter: '_',
  strongDelimiter: '**',
  maxConsecutiveNewlines: 2,
  keepDataImages: false,
  useLinkReferenceDefinitions: false,
});

// The converter numbers every ordered list from 1; <ol start> says otherwise.
const defaultListItem = converter.translators.get('li') as TranslatorConfigFactory;
converter.translators.set('li', (ctx) => {
  const start = Number(ctx.parent?.tagName === 'OL' ? ctx.parent.getAttribute('start') : undefined);
  const offset = Number.isInteger(start) ? start - 1 : 0;
  return defaultListItem({ ...ctx, listItemNumber: ctx.listItemNumber === undefined ? undefined : ctx.listItemNumber + offset });
});

export interface MarkdownPage {
  title: string;
  markdown: string;
}

function isElement(node: AnyNode): node is Element {
  return 'tagName' in node;
}

function children(node: AnyNode): Node[] {
  return 'childNodes' in node ? node.childNodes : [];
}

function findFirst(node: AnyNode, tagName: string): Element | undefined {
  for (const child of children(node)) {
    if (isElement(child) && child.tagName === tagName) return child;
    const found = findFirst(child, tagName);
    if (found) return found;
  }
  return undefined;
}

function textContent(node: Node): string {
  if (node.nodeName === '#text' && 'value' in node) return node.value;
  return children(node).map(textContent).join('');
}

function attribute(element: Element, name: string): string | undefined {
  return element.attrs.find((attr) => attr.name === name)?.value;
}

function setAttribute(element: Element, name: string, value: string | undefined): void {
  element.attrs = element.attrs.filter((attr) => attr.name !== name);
  if (value !== undefined) element.attrs.push({ name, value });
}

function absoluteUrl(value: string | undefined, base: URL | undefined): URL | undefined {
  if (value === undefined) return undefined;
  try {
    return new URL(value.trim(), base);
  } catch {
    return undefined;
  }
}

// A link the model may follow is absolute and http(s)/mailto; anything else keeps its text only.
function safeUrl(value: string | undefined, base: URL | undefined, allowed: Set<string>): string | undefined {
  const url = absoluteUrl(value, base);
  return url && allowed.has(url.protocol) ? url.href : undefined;
}

// Returns whether a block element is left below parent.
function clean(parent: ParentNode, base: URL | undefined, dropNoise: boolean): boolean {
  const kept: Node[] = [];
  let hasBlock = false;
  for (const child of parent.childNodes) {
    if (!isElement(child)) {
      kept.push(child);
      continue;
    }
    if (DROPPED.has(child.tagName) || (dropNoise && BODY_NOISE.has(child.tagName))) continue;
    if (child.tagName === 'a') setAttribute(child, 'href', safeUrl(attribute(child, 'href'), base, LINK_PROTOCOLS));
    if (child.tagName === 'img') setAttribute(child, 'src', safeUrl(attribute(child, 'src'), base, IMAGE_PROTOCOLS));
    const blockBelow = clean(child, base, dropNoise);
    hasBlock ||= blockBelow || BLOCKS.has(child.tagName);
    if (INLINE_WRAPPERS.has(child.tagName) && blockBelow) {
      for (const grandchild of child.childNodes) grandchild.parentNode = parent;
      kept.push(...child.childNodes);
    } else kept.push(child);
  }
  parent.childNodes = kept;
  return hasBlock;
}

const depths = new WeakMap<AnyNode, number>();
const depthOf = (node: AnyNode) => depths.get(node) ?? 0;
// Appends under the deepest ancestor that keeps the tree within MAX_DEPTH.
function withinDepth(parent: ParentNode): ParentNode {
  let target: ParentNode = parent;
  while (depthOf(target) >= MAX_DEPTH && 'parentNode' in target && target.parentNode) target = target.parentNode;
  return target;
}
const depthCappedAdapter: TreeAdapter<DefaultTreeAdapterMap> = {
  ...defaultTreeAdapter,
  appendChild(parent, child) {
    const target = withinDepth(parent);
    defaultTreeAdapter.appendChild(target, child);
    depths.set(child, depthOf(target) + 1);
  },
  insertBefore(parent, child, reference) {
    if (depthOf(parent) >= MAX_DEPTH) return depthCappedAdapter.appendChild(parent, child);
    defaultTreeAdapter.insertBefore(parent, child, reference);
    depths.set(child, depthOf(parent) + 1);
  },
};

// Throws TOOL_FETCH_UNREADABLE when the page takes longer than deadlineMs of CPU to convert.
export function htmlToMarkdown(html: string, baseUrl?: string, deadlineMs = CONVERSION_DEADLINE_MS): MarkdownPage {
  try {
    return vm.runInNewContext('convert()', { convert: () => convert(html, baseUrl) }, { timeout: deadlineMs }) as MarkdownPage;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw error;
    throw new AppError(
      ErrorCode.TOOL_FETCH_UNREADABLE,
      `The page is too large or too deeply nested to convert within ${deadlineMs} ms; try a more specific URL`,
    );
  }
}

function convert(html: string, baseUrl: string | undefined): MarkdownPage {
  const document = parse(html, { treeAdapter: depthCappedAdapter });
  const titleElement = findFirst(document, 'title');
  const title = titleElement ? textContent(titleElement).replace(/\s+/g, ' ').trim() : '';
  const pageUrl = absoluteUrl(baseUrl, undefined);
  const declaredBase = findFirst(document, 'base');
  const base = (declaredBase && absoluteUrl(attribute(declaredBase, 'href'), pageUrl)) || pageUrl;
  const main = findFirst(document, 'main') ?? findFirst(document, 'article');
  const content = main ?? findFirst(document, 'body') ?? document;
  clean(content, base, !main);
  const markdown = new PieceWriter()
    .render(content)
    .filter((block) => block.trim())
    .join('\n\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { title, markdown };
}

// Renders a tree as Markdown blocks, one converter call per piece of at most PIECE_CHARS.
class PieceWriter {
  private readonly sizes = new Map<Node, number>();

  render(parent: ParentNode): string[] {
    const blocks: string[] = [];
    let pending: Node[] = [];
    let pendingSize = 0;
    const flush = () => {
      if (pending.length) blocks.push(translate(pending));
      pending = [];
      pendingSize = 0;
    };
    for (const child of parent.childNodes) {
      const size = this.size(child);
      if (!isElement(child) || size <= PIECE_CHARS) {
        if (pendingSize + size > PIECE_CHARS) flush();
        pending.push(child);
        pendingSize += size;
        continue;
      }
      flush();
      blocks.push(...this.large(child));
    }
    flush();
    return blocks;
  }

  private large(element: Element): string[] {
    switch (element.tagName) {
      case 'table':
        return [this.table(element)];
      case 'ul':
      case 'ol':
        return this.list(element);
      case 'blockquote':
        return [this.render(element).join('\n\n').replace(/^/gm, '> ')];
      case 'pre':
      case 'p':
      case 'h1':
      case 'h2':
      case 'h3':
      case 'h4':
      case 'h5':
      case 'h6':
        return [translate([element])];
      default:
        return this.render(element);
    }
  }

  // Large tables are written row by row; each cell's content still goes through the converter.
  private table(table: Element): string {
    const rows = tableRows(table).map((row) =>
      row.childNodes
        .filter((cell): cell is Element => isElement(cell) && (cell.tagName === 'td' || cell.tagName === 'th'))
        .map((cell) =>
          translate(cell.childNodes)
            .replace(/\s+/g, ' ')
            .trim()
            .replace(/(?<!\\)\|/g, '\\|'),
        ),
    );
    const width = Math.max(0, ...rows.map((cells) => cells.length));
    if (width === 0) return '';
    const line = (cells: string[]) => `| ${[...cells, ...new Array<string>(width - cells.length).fill('')].join(' | ')} |`;
    const [header = [], ...body] = rows;
    return [line(header), `|${' --- |'.repeat(width)}`, ...body.map(line)].join('\n');
  }

  // Large lists are written in runs of items, an ordered run starting where the last one ended.
  private list(list: Element): string[] {
    const items = list.childNodes.filter((child): child is Element => isElement(child) && child.tagName === 'li');
    const start = Number(attribute(list, 'start'));
    let next = Number.isInteger(start) ? start : 1;
    const runs: string[] = [];
    let run: Element[] = [];
    let runSize = 0;
    const flush = () => {
      if (!run.length) return;
      const container = defaultTreeAdapter.createElement(list.tagName, list.namespaceURI, [{ name: 'start', value: String(next) }]);
      container.childNodes = run;
      runs.push(translate([container]));
      next += run.length;
      run = [];
      runSize = 0;
    };
    for (const item of items) {
      if (runSize + this.size(item) > PIECE_CHARS) flush();
      run.push(item);
      runSize += this.size(item);
    }
    flush();
    // Runs of one list stay one list: no blank line between them.
    return [runs.join('\n')];
  }

  // The HTML length of a subtree, measured once per node.
  private size(node: Node): number {
    const known = this.sizes.get(node);
    if (known !== undefined) return known;
    let size: number;
    if (!isElement(node)) size = 'value' in node ? node.value.length : 0;
    else size = 2 * node.tagName.length + 5 + node.attrs.reduce((sum, attr) => sum + attr.name.length + attr.value.length + 4, 0);
    for (const child of children(node)) size += this.size(child);
    this.sizes.set(node, size);
    return size;
  }
}

function tableRows(table: Element): Element[] {
  return table.childNodes.flatMap((child) => {
    if (!isElement(child)) return [];
    if (child.tagName === 'tr') return [child];
    return ['thead', 'tbody', 'tfoot'].includes(child.tagName) ? tableRows(child) : [];
  });
}

function translate(nodes: Node[]): string {
  const fragment = defaultTreeAdapter.createDocumentFragment();
  fragment.childNodes = nodes;
  return converter.translate(serialize(fragment));
}
