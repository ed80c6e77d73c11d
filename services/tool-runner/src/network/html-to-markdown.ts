// HTML to readable Markdown for fetch_website. A forgiving tokenizer builds a small tree
// (implied end tags, void and raw-text elements, unclosed tags), the readable part is picked
// (<main> or <article>, else <body> without navigation), and blocks, lists, tables, code and
// links are written as Markdown. Scripts, styles and forms never reach the model.

interface ElementNode {
  type: 'element';
  name: string;
  attrs: Record<string, string>;
  children: TreeNode[];
  parent?: ElementNode;
}
interface TextNode {
  type: 'text';
  text: string;
}
type TreeNode = ElementNode | TextNode;

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'template', 'noscript', 'xmp', 'iframe', 'noembed', 'noframes']);
const DROPPED = new Set(['script', 'style', 'template', 'noscript', 'svg', 'canvas', 'iframe', 'object', 'embed', 'form', 'button', 'input', 'select', 'textarea', 'head', 'dialog', 'noembed', 'noframes']);
const BODY_NOISE = new Set(['nav', 'aside', 'footer']);
const BLOCK = new Set(['p', 'div', 'section', 'article', 'main', 'header', 'footer', 'figure', 'figcaption', 'address', 'details', 'summary', 'nav', 'aside', 'body', 'html', 'center', 'fieldset', 'dl', 'dt', 'dd']);
// Opening one of these closes an open element of the listed names first (simplified HTML rules).
const IMPLIED_END: Record<string, string[]> = {
  li: ['li'],
  dt: ['dt', 'dd'],
  dd: ['dt', 'dd'],
  tr: ['tr', 'td', 'th'],
  td: ['td', 'th'],
  th: ['td', 'th'],
  option: ['option'],
  p: ['p'],
};
const CLOSES_P = new Set(['p', 'div', 'ul', 'ol', 'dl', 'table', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'pre', 'blockquote', 'section', 'article', 'header', 'footer', 'hr', 'figure', 'main', 'nav', 'aside', 'form']);
// A list or table item never closes an ancestor beyond its own container.
const SCOPE = new Set(['ul', 'ol', 'table', 'tbody', 'thead', 'tfoot', 'dl', 'select', 'html', 'body', 'blockquote', 'div', 'td', 'th', 'li']);

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '©', reg: '®', trade: '™', hellip: '…', mdash: '—', ndash: '–',
  lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«', raquo: '»', bull: '•', middot: '·', times: '×', divide: '÷', deg: '°',
  euro: '€', pound: '£', yen: '¥', cent: '¢', sect: '§', para: '¶', shy: '', zwj: '', zwnj: '', larr: '←', rarr: '→', uarr: '↑', darr: '↓',
  hearts: '♥', check: '✓', ensp: '\u2002', emsp: '\u2003', thinsp: '\u2009', iexcl: '¡', iquest: '¿', frac12: '½', frac14: '¼', frac34: '¾', plusmn: '±',
};

export function decodeEntities(text: string): string {
  return text.replace(/&(#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : '\ufffd';
    }
    return NAMED_ENTITIES[ref] ?? NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

function parseAttributes(source: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  const re = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    const name = (m[1] ?? '').toLowerCase();
    if (!(name in attrs)) attrs[name] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

export function parseHtml(html: string): ElementNode {
  const root: ElementNode = { type: 'element', name: '#root', attrs: {}, children: [] };
  let current = root;
  const open = (name: string, attrs: Record<string, string>) => {
    const implied = IMPLIED_END[name];
    if (implied || CLOSES_P.has(name)) closeImplied(implied ?? [], CLOSES_P.has(name));
    const node: ElementNode = { type: 'element', name, attrs, children: [], parent: current };
    current.children.push(node);
    if (!VOID.has(name)) current = node;
    return node;
  };
  const closeImplied = (names: string[], closeP: boolean) => {
    for (let node: ElementNode | undefined = current; node && node !== root; node = node.parent) {
      if (names.includes(node.name) || (closeP && node.name === 'p')) {
        current = node.parent ?? root;
        return;
      }
      if (SCOPE.has(node.name)) return;
    }
  };
  const close = (name: string) => {
    for (let node: ElementNode | undefined = current; node && node !== root; node = node.parent) {
      if (node.name === name) {
        current = node.parent ?? root;
        return;
      }
    }
    // An end tag with nothing to close is ignored, as browsers do.
  };
  const text = (value: string) => {
    if (value) current.children.push({ type: 'text', text: value });
  };

  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt === -1) {
      text(decodeEntities(html.slice(i)));
      break;
    }
    if (lt > i) text(decodeEntities(html.slice(i, lt)));
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end === -1 ? html.length : end + 3;
      continue;
    }
    if (html.startsWith('<![CDATA[', lt)) {
      const end = html.indexOf(']]>', lt);
      text(html.slice(lt + 9, end === -1 ? html.length : end));
      i = end === -1 ? html.length : end + 3;
      continue;
    }
    if (html[lt + 1] === '!' || html[lt + 1] === '?') {
      const end = html.indexOf('>', lt);
      i = end === -1 ? html.length : end + 1;
      continue;
    }
    const tag = /^<(\/?)([a-zA-Z][a-zA-Z0-9:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/.exec(html.slice(lt, lt + 10_000));
    if (!tag) {
      text('<');
      i = lt + 1;
      continue;
    }
    i = lt + tag[0].length;
    const name = (tag[2] ?? '').toLowerCase();
    if (tag[1]) {
      close(name);
      continue;
    }
    const node = open(name, parseAttributes(tag[3] ?? ''));
    if (RAW_TEXT.has(name)) {
      const endRe = new RegExp(`</${name}\\s*>`, 'i');
      const rest = html.slice(i);
      const m = endRe.exec(rest);
      const raw = m ? rest.slice(0, m.index) : rest;
      if (name === 'textarea' || name === 'title') node.children.push({ type: 'text', text: decodeEntities(raw) });
      i += m ? m.index + m[0].length : rest.length;
      current = node.parent ?? root;
    } else if (tag[3]?.trim().endsWith('/') && !VOID.has(name)) {
      // <div/> in HTML opens a div, but an explicit self-closing tag on unknown elements is common in feeds.
      if (name.includes('-') || name.includes(':')) current = node.parent ?? root;
    }
  }
  return root;
}

function find(node: ElementNode, name: string): ElementNode | undefined {
  for (const child of node.children) {
    if (child.type !== 'element') continue;
    if (child.name === name) return child;
    const found = find(child, name);
    if (found) return found;
  }
  return undefined;
}

function textOf(node: TreeNode): string {
  if (node.type === 'text') return node.text;
  if (DROPPED.has(node.name)) return '';
  return node.children.map(textOf).join('');
}

interface RenderContext {
  baseUrl?: URL;
  dropNoise: boolean;
}

function resolveUrl(href: string, ctx: RenderContext): string | undefined {
  const trimmed = href.trim();
  if (!trimmed || /^(javascript|vbscript|data):/i.test(trimmed)) return undefined;
  try {
    return ctx.baseUrl ? new URL(trimmed, ctx.baseUrl).href : trimmed;
  } catch {
    return trimmed;
  }
}

function collapse(text: string): string {
  return text.replace(/[ \t\n\r\f\v]+/g, ' ');
}

function escapeInline(text: string): string {
  return text.replace(/([\\`*_[\]])/g, '\\$1');
}

// Inline content of a node as one Markdown string (line breaks only from <br>).
function inline(node: TreeNode, ctx: RenderContext): string {
  if (node.type === 'text') return escapeInline(collapse(node.text));
  if (DROPPED.has(node.name)) return '';
  const inner = () => node.children.map((c) => inline(c, ctx)).join('');
  switch (node.name) {
    case 'br':
      return '\n';
    case 'img': {
      const src = resolveUrl(node.attrs.src ?? '', ctx);
      const alt = collapse(node.attrs.alt ?? '').trim();
      if (!src && !alt) return '';
      return src ? `![${escapeInline(alt)}](${src})` : `![${escapeInline(alt)}]`;
    }
    case 'a': {
      const label = inner().trim();
      const href = resolveUrl(node.attrs.href ?? '', ctx);
      if (!label) return '';
      if (!href || href.startsWith('#')) return label;
      return `[${label}](${href})`;
    }
    case 'strong':
    case 'b':
      return wrap(inner(), '**');
    case 'em':
    case 'i':
      return wrap(inner(), '_');
    case 'del':
    case 's':
    case 'strike':
      return wrap(inner(), '~~');
    case 'code':
    case 'kbd':
    case 'samp': {
      const code = collapse(textOf(node));
      if (!code.trim()) return '';
      const fence = code.includes('`') ? '``' : '`';
      return `${fence}${code}${fence}`;
    }
    default:
      return inner();
  }
}

function wrap(text: string, mark: string): string {
  const trimmed = text.trim();
  if (!trimmed) return text;
  const lead = text.startsWith(' ') ? ' ' : '';
  const trail = text.endsWith(' ') ? ' ' : '';
  return `${lead}${mark}${trimmed}${mark}${trail}`;
}

function isBlock(node: TreeNode): boolean {
  return node.type === 'element' && (BLOCK.has(node.name) || /^h[1-6]$/.test(node.name) || ['ul', 'ol', 'pre', 'blockquote', 'table', 'hr', 'li'].includes(node.name));
}

// Block content: Markdown blocks separated by blank lines.
function blocks(node: ElementNode, ctx: RenderContext): string[] {
  const out: string[] = [];
  let run: TreeNode[] = [];
  const flush = () => {
    const text = run
      .map((c) => inline(c, ctx))
      .join('')
      .split('\n')
      .map((line) => line.trim())
      .join('\n')
      .trim();
    if (text) out.push(text);
    run = [];
  };
  for (const child of node.children) {
    if (child.type === 'element' && (DROPPED.has(child.name) || (ctx.dropNoise && BODY_NOISE.has(child.name)))) continue;
    if (!isBlock(child)) {
      run.push(child);
      continue;
    }
    flush();
    out.push(...block(child as ElementNode, ctx));
  }
  flush();
  return out;
}

function block(node: ElementNode, ctx: RenderContext): string[] {
  const heading = /^h([1-6])$/.exec(node.name);
  if (heading) {
    const text = inline(node, ctx).replace(/\s+/g, ' ').trim();
    return text ? [`${'#'.repeat(Number(heading[1]))} ${text}`] : [];
  }
  switch (node.name) {
    case 'hr':
      return ['---'];
    case 'pre': {
      const codeChild = node.children.find((c): c is ElementNode => c.type === 'element' && c.name === 'code');
      const language = /(?:^|\s)(?:language|lang)-([\w+-]+)/.exec(codeChild?.attrs.class ?? node.attrs.class ?? '')?.[1] ?? '';
      const code = textOf(node).replace(/^\n/, '').replace(/\s+$/, '');
      const fence = code.includes('```') ? '````' : '```';
      return [`${fence}${language}\n${code}\n${fence}`];
    }
    case 'blockquote':
      return [
        blocks(node, ctx)
          .join('\n\n')
          .split('\n')
          .map((line) => (line ? `> ${line}` : '>'))
          .join('\n'),
      ];
    case 'ul':
    case 'ol':
      return [list(node, ctx)].filter(Boolean);
    case 'table':
      return [table(node, ctx)].filter(Boolean);
    case 'dt': {
      const text = inline(node, ctx).trim();
      return text ? [`**${text}**`] : [];
    }
    case 'dd':
      return blocks(node, ctx).map((b) => `: ${b}`);
    default:
      return blocks(node, ctx);
  }
}

function list(node: ElementNode, ctx: RenderContext): string {
  const ordered = node.name === 'ol';
  let n = Number(node.attrs.start) || 1;
  const items: string[] = [];
  for (const child of node.children) {
    if (child.type !== 'element' || child.name !== 'li') continue;
    const marker = ordered ? `${n++}. ` : '- ';
    const body = blocks(child, ctx).join('\n');
    if (!body) continue;
    const indent = ' '.repeat(marker.length);
    items.push(
      body
        .split('\n')
        .map((line, i) => (i === 0 ? marker + line : line ? indent + line : line))
        .join('\n'),
    );
  }
  return items.join('\n');
}

function rows(node: ElementNode): ElementNode[] {
  const found: ElementNode[] = [];
  for (const child of node.children) {
    if (child.type !== 'element') continue;
    if (child.name === 'tr') found.push(child);
    else if (['thead', 'tbody', 'tfoot'].includes(child.name)) found.push(...rows(child));
  }
  return found;
}

function table(node: ElementNode, ctx: RenderContext): string {
  const cells = rows(node)
    .map((row) =>
      row.children
        .filter((c): c is ElementNode => c.type === 'element' && (c.name === 'td' || c.name === 'th'))
        .map((cell) => inline(cell, ctx).replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|')),
    )
    .filter((row) => row.length > 0);
  const [header, ...body] = cells;
  if (!header) return '';
  const width = Math.max(...cells.map((r) => r.length));
  const pad = (row: string[]) => `| ${[...row, ...new Array<string>(width - row.length).fill('')].join(' | ')} |`;
  return [pad(header), `|${' --- |'.repeat(width)}`, ...body.map(pad)].join('\n');
}

export interface MarkdownPage {
  title: string;
  markdown: string;
}

export function htmlToMarkdown(html: string, baseUrl?: string): MarkdownPage {
  const tree = parseHtml(html);
  const titleNode = find(tree, 'title');
  const title = titleNode ? collapse(textOf({ ...titleNode, name: 'span' })).trim() : '';
  let base: URL | undefined;
  try {
    const href = find(tree, 'base')?.attrs.href;
    base = baseUrl ? new URL(href ?? '', baseUrl) : undefined;
  } catch {
    base = undefined;
  }
  const main = find(tree, 'main') ?? find(tree, 'article');
  const content = main ?? find(tree, 'body') ?? tree;
  const markdown = blocks(content, { baseUrl: base, dropNoise: !main })
    .join('\n\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { title, markdown };
}
