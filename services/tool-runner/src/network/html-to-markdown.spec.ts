import { decodeEntities, htmlToMarkdown } from './html-to-markdown';

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
    expect(markdown).toBe(
      [
        '# Getting _started_',
        'Install it with `npm i thing`, then read [the API](https://example.com/api?x=1).\nSecond line.',
        '- One\n- Two\n  - Nested',
        '3. Third\n4. Fourth',
        '```js\nconst a = 1;\nif (a < 2) run();\n```',
        '> Quoted',
        '| Name | Type |\n| --- | --- |\n| id | string \\| number |',
        '![Logo](https://example.com/logo.png) ![inline]',
        'bad link **bold** © 2026 😀',
      ].join('\n\n'),
    );
    expect(markdown).not.toMatch(/alert|secret|Send|Home|Footer|body\{\}/);
  });

  it('falls back to the body without navigation, and survives broken markup', () => {
    const { markdown } = htmlToMarkdown('<body><nav>menu</nav><div><p>Unclosed <b>bold<p>Next</div><aside>ads</aside><p>3 < 4 & 5 > 2</body>');
    expect(markdown).toBe('Unclosed **bold**\n\nNext\n\n3 < 4 & 5 > 2');
  });

  it('decodes entities, numeric ones included, and leaves unknown ones alone', () => {
    expect(decodeEntities('&lt;a&gt; &#65;&#x42; &nbsp;&hellip; &bogus; &#xD800;')).toBe('<a> AB \u00a0… &bogus; \ufffd');
  });
});
