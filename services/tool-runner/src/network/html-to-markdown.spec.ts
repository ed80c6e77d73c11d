import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode } from '@overskill/contracts';
import { decodePageText } from './decode-page-text';
import { htmlToMarkdown } from './html-to-markdown';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '__fixtures__', name));
// The standard's table of named character references (name → characters).
const NAMED_REFERENCES = JSON.parse(fixture('named-character-references.json').toString('utf8')) as Record<string, string>;
const unescapeMarkdown = (text: string) => text.replace(/\\([\\`*_{}[\]()#+\-.!|<>~=])/g, '$1');

describe('htmlToMarkdown', () => {
  it('turns a typical page into readable Markdown, keeping only the main content', () => {
    const html = `<!doctype html><html><head><title>Docs &amp; Guides</title><style>body{}</style><script>alert(1)</script></head>
      <body><nav><a href="/">Home</a></nav>
      <main>
        <h1>Getting <em>started</em></h1>
        <p>Install it with <code>npm i thing</code>, then read <a href="/api?x=1">the API</a>.<br>Second line.</p>
        <ul><li>One</li><li>Two<ul><li>Nested</li></ul></li></ul>
        <ol start="3"><li>Third</li><li>Fourth</ol>
        <pre><code class="language-js">const a = 1;
if (a &lt; 2) run();</code></pre>
        <blockquote><p>Quoted</p></blockquote>
        <table><tr><th>Name</th><th>Type</th></tr><tr><td>id</td><td>string | number</td></tr></table>
        <img src="/logo.png" alt="Logo"> <img src="data:image/png;base64,AAAA" alt="inline">
        <p><a href="javascript:alert(1)">bad link</a> <strong>bold</strong> &copy; 2026 &#x1F600;</p>
        <form><input value="secret"><button>Send</button></form>
      </main><footer>Footer</footer></body></html>`;
    const { title, markdown } = htmlToMarkdown(html, 'https://example.com/docs/');
    expect(title).toBe('Docs & Guides');
    expect(markdown).toContain('# Getting _started_');
    expect(markdown).toContain('Install it with `npm i thing`, then read [the API](https://example.com/api?x=1).');
    expect(markdown).toMatch(/- One\n- Two\n\s+- Nested/);
    expect(markdown).toContain('3. Third\n4. Fourth');
    expect(markdown).toContain('```js\nconst a = 1;\nif (a < 2) run();\n```');
    expect(markdown).toContain('> Quoted');
    expect(markdown).toMatch(/\| Name +\| Type +\|\n\| -+ \| -+ \|\n\| id +\| string \\\| number \|/);
    expect(markdown).toContain('![Logo](https://example.com/logo.png)');
    expect(markdown).toContain('bad link **bold** © 2026 😀');
    expect(markdown).not.toMatch(/alert|secret|Send|Home|Footer|body\{\}|data:image|javascript:/);
  });

  it('falls back to the body without navigation, and survives broken markup as a browser would', () => {
    const { markdown } = htmlToMarkdown('<body><nav>menu</nav><div><p>Unclosed <b>bold<p>Next</div><aside>ads</aside><p>3 < 4 & 5 > 2</body>');
    expect(markdown).toBe('Unclosed **bold**\n\n**Next**\n\n**3 < 4 & 5 > 2**');
  });

  it('decodes every named character reference of the standard', () => {
    const names = Object.keys(NAMED_REFERENCES);
    expect(names.length).toBeGreaterThan(2000);
    const html = names.map((name, i) => `<p>${i}=&${name};=</p>`).join('');
    const decoded = new Map<number, string>();
    for (const line of htmlToMarkdown(html).markdown.split('\n\n')) {
      const match = /^(\d+)\\?=([\s\S]*)\\?=$/.exec(line);
      if (match) decoded.set(Number(match[1]), unescapeMarkdown(match[2] ?? ''));
    }
    const wrong = names.filter((name, i) => {
      const expected = NAMED_REFERENCES[name] ?? '';
      const got = decoded.get(i);
      // White space is folded into the text, as a browser renders it.
      return /^\s+$/.test(expected) ? got === undefined || got.trim() !== '' : got !== expected;
    });
    expect(wrong).toEqual([]);
  });

  it('decodes numeric references as the standard says, replacing what no text may hold', () => {
    const { markdown } = htmlToMarkdown('<p>&#65;&#x42; &#x1F600; &#128; &#0; &#xD800; &#x110000; &bogus; &copy 1998</p>');
    expect(markdown).toBe('AB 😀 € \ufffd \ufffd \ufffd &bogus; © 1998');
  });

  it('writes a huge table whole', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `<tr>${Array.from({ length: 6 }, (_, j) => `<td>r${i}c${j}</td>`).join('')}</tr>`);
    const { markdown } = htmlToMarkdown(`<table><thead><tr>${'<th>h</th>'.repeat(6)}</tr></thead><tbody>${rows.join('')}</tbody></table>`);
    const lines = markdown.split('\n');
    expect(lines).toHaveLength(5002);
    expect(lines[5001]).toMatch(/^\| r4999c0 +\| r4999c1 .*\| r4999c5 +\|$/);
  });

  it('writes a long ordered list whole, numbered from its start across the pieces it is written in', () => {
    const items = Array.from({ length: 3000 }, (_, i) => `<li>item <b>${i}</b></li>`).join('');
    const lines = htmlToMarkdown(`<div><div><ol start="7">${items}</ol><p>after</p></div></div>`).markdown.split('\n');
    expect(lines).toHaveLength(3002);
    expect(lines.slice(0, 3000)).toEqual(Array.from({ length: 3000 }, (_, i) => `${i + 7}. item **${i}**`));
    expect(lines.slice(3000)).toEqual(['', 'after']);
  });

  it('keeps the order and text of a page far larger than one converter piece', () => {
    const paragraphs = Array.from({ length: 20000 }, (_, i) => `<p>para ${i} <a href="/p/${i}">link</a></p>`);
    const { markdown } = htmlToMarkdown(`<section><div>${paragraphs.join('')}</div></section>`, 'https://example.com/');
    const blocks = markdown.split('\n\n');
    expect(blocks).toHaveLength(20000);
    expect(blocks[19999]).toBe('para 19999 [link](https://example.com/p/19999)');
    expect(blocks.every((block, i) => block.startsWith(`para ${i} `))).toBe(true);
  });

  it('caps nesting as a browser does, so a deeply nested page still gives its text', () => {
    expect(htmlToMarkdown(`${'<span>'.repeat(100000)}deep text`).markdown).toBe('deep text');
    expect(htmlToMarkdown(`${'<b>'.repeat(100000)}deep text`).markdown).toBe('**deep text**');
    expect(htmlToMarkdown(`${'<div>'.repeat(5000)}deep text`).markdown).toBe('deep text');
  });

  it('refuses a page that takes longer than its deadline to convert, with a clear error', () => {
    expect(() => htmlToMarkdown('<div>'.repeat(60000), undefined, 200)).toThrow(expect.objectContaining({ code: ErrorCode.TOOL_FETCH_UNREADABLE }));
    expect(htmlToMarkdown('<p>still works</p>').markdown).toBe('still works');
  });

  it('reads a saved encyclopaedia article: content kept, chrome, scripts and styles gone, links absolute', () => {
    const html = decodePageText(fixture('wiki-article.html'), undefined, true);
    const { title, markdown } = htmlToMarkdown(html, 'https://example.com/wiki/Cafe_culture');
    expect(title).toBe('Café culture — Encyclopædia');
    expect(markdown).toContain('# Café culture');
    expect(markdown).toMatch(/\| Origin +\| Constantinople, 16th century +\|/);
    expect(markdown).toContain('[coffeehouse](https://example.com/wiki/Coffeehouse "Coffeehouse")');
    expect(markdown).toContain('€2–€4 & the temperature as 60 °C±5');
    expect(markdown).toContain('‘quoted’ and “double” — naïve résumé ça ß ø Ångström αβγ ∀x∈ℜ');
    expect(markdown).toContain('action=edit&section=1');
    expect(markdown).toContain('[Example history](https://example.org/history?a=1&b=2)');
    expect(markdown).not.toMatch(/RLCONF|infobox\{|Main page|Random article|Tea house|last edited|Log in/);
  });

  it('reads a legacy windows-1252 page with unclosed and misnested tags', () => {
    const html = decodePageText(fixture('legacy-windows-1252.html'), undefined, true);
    const { title, markdown } = htmlToMarkdown(html, 'http://example.com/~jose/');
    expect(title).toBe('José Martí - Home');
    expect(markdown).toMatch(/\| Señor +\| “Quoted” – dash +\|\n\| -+ \| -+ \|\n\| Price +\| € 5 +\|/);
    expect(markdown).toContain('[links](http://example.com/~jose/links.html) and a script link');
    expect(markdown).toContain('© 1998');
    expect(markdown).toContain('- One\n- Two');
    expect(markdown).not.toMatch(/document\.write|injected|javascript/);
  });

  it('reads a Shift_JIS page declared only in its <meta>', () => {
    const { title, markdown } = htmlToMarkdown(decodePageText(fixture('shift-jis.html'), undefined, true));
    expect(title).toBe('日本語のページ');
    expect(markdown).toBe('# ようこそ\n\n日本語のページです。');
  });
});
