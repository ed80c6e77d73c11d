import Anthropic from '@anthropic-ai/sdk';
import { Script, runInNewContext } from 'node:vm';
import { AnthropicFake, FakeContentBlock, FakeTurn, RecordedAnthropicRequest } from './anthropic-fake';
import { appTitle, DEMO_COMMIT_TOOL, DEMO_WRITE_FILE_TOOL, demoResponder, escapeHtml } from './demo-script';

const WRITE_FILE_TOOL: Anthropic.Tool = {
  name: DEMO_WRITE_FILE_TOOL,
  description: 'Write a file in the app workspace',
  input_schema: { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } }, required: ['path', 'content'] },
};

type ToolUse = Extract<FakeContentBlock, { type: 'tool_use' }>;

function requestWith(messages: unknown[], tools: unknown[] | undefined = [WRITE_FILE_TOOL]): RecordedAnthropicRequest {
  return { body: { model: 'claude-sonnet-4-6', max_tokens: 4096, tools, messages }, headers: {}, stream: false, receivedAt: 0 };
}

function toolUses(turn: FakeTurn): ToolUse[] {
  return turn.content.filter((block): block is ToolUse => block.type === 'tool_use');
}

function filesOf(turn: FakeTurn): Record<string, string> {
  return Object.fromEntries(toolUses(turn).map((block) => [block.input['path'] as string, block.input['content'] as string]));
}

// The assistant turn as the client would store it (ids filled in, as the fake does on the wire) and
// the user turn answering each tool_use, the way tool-runner results come back.
function answered(turn: FakeTurn, isError = false): unknown[] {
  const blocks = turn.content.map((block, index) => (block.type === 'tool_use' ? { ...block, id: block.id ?? `toolu_${index}` } : block));
  const results = blocks
    .filter((block): block is ToolUse & { id: string } => block.type === 'tool_use')
    .map((block) => ({ type: 'tool_result', tool_use_id: block.id, content: isError ? 'disk full' : 'ok', ...(isError ? { is_error: true } : {}) }));
  return [
    { role: 'assistant', content: blocks },
    { role: 'user', content: results },
  ];
}

describe('demoResponder', () => {
  const request = 'Build me a <script>alert("x")</script> grocery list & planner';

  it('answers a new chat request with write_file calls for a linked index.html, styles.css and app.js', () => {
    const turn = demoResponder(requestWith([{ role: 'user', content: request }]));

    expect(turn.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining("I'll build") });
    expect(toolUses(turn).map((block) => block.name)).toEqual([DEMO_WRITE_FILE_TOOL, DEMO_WRITE_FILE_TOOL, DEMO_WRITE_FILE_TOOL]);
    const files = filesOf(turn);
    expect(Object.keys(files)).toEqual(['index.html', 'styles.css', 'app.js']);
    expect(turn.stop_reason ?? 'tool_use').toBe('tool_use');

    const html = files['index.html'];
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<link rel="stylesheet" href="styles.css">');
    expect(html).toContain('<script src="app.js" defer></script>');
    expect(html).toContain(`<title>${escapeHtml(request)}</title>`);
    expect(html).toContain(`<h1>${escapeHtml(request)}</h1>`);
    expect(html).not.toContain('<script>alert');
    // Every element app.js looks up exists in the page.
    const ids = [...files['app.js'].matchAll(/getElementById\('([^']+)'\)/g)].map((match) => match[1]);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(html).toContain(`id="${id}"`);
  });

  it('writes syntactically valid JavaScript and balanced CSS', () => {
    const files = filesOf(demoResponder(requestWith([{ role: 'user', content: 'counter' }])));

    expect(() => new Script(files['app.js'])).not.toThrow();
    const css = files['styles.css'];
    expect(css.split('{').length).toBe(css.split('}').length);
    expect(css).toContain('.task.done');
  });

  it('writes an app.js that adds, ticks off, clears and remembers tasks offline', () => {
    const appJs = filesOf(demoResponder(requestWith([{ role: 'user', content: 'todo' }])))['app.js'];
    const storage = new MemoryStorage();

    const page = loadPage(appJs, storage);
    expect(page.remaining.textContent).toBe('0 tasks left');
    page.input.value = '  Buy milk ';
    const submit = page.form.dispatch('submit');
    page.input.value = 'Walk the dog';
    page.form.dispatch('submit');
    page.input.value = '   ';
    page.form.dispatch('submit');

    expect(submit.defaultPrevented).toBe(true);
    expect(page.list.children.map(taskText)).toEqual(['Buy milk', 'Walk the dog']);
    expect(page.remaining.textContent).toBe('2 tasks left');
    expect(page.clearDone.disabled).toBe(true);

    const checkbox = page.list.children[0].children[0];
    checkbox.checked = true;
    checkbox.dispatch('change');
    expect(page.remaining.textContent).toBe('1 task left');
    expect(page.list.children[0].className).toBe('task done');
    expect(page.clearDone.disabled).toBe(false);

    // A reload restores the list from localStorage.
    const reloaded = loadPage(appJs, storage);
    expect(reloaded.list.children.map(taskText)).toEqual(['Buy milk', 'Walk the dog']);
    reloaded.clearDone.dispatch('click');
    expect(reloaded.list.children.map(taskText)).toEqual(['Walk the dog']);
    reloaded.list.children[0].children[2].dispatch('click');
    expect(reloaded.list.children).toHaveLength(0);
    expect(JSON.parse(storage.getItem('overskill-demo-tasks') ?? 'null')).toEqual([]);
  });

  it('keeps working when storage is denied, as in a sandboxed preview frame', () => {
    const appJs = filesOf(demoResponder(requestWith([{ role: 'user', content: 'todo' }])))['app.js'];
    const page = loadPage(appJs, new DeniedStorage());

    page.input.value = 'Still works';
    page.form.dispatch('submit');

    expect(page.list.children.map(taskText)).toEqual(['Still works']);
  });

  it('writes README.md after the first tool results, then ends with a summary', () => {
    const first = demoResponder(requestWith([{ role: 'user', content: request }]));
    const afterFiles = [{ role: 'user', content: request }, ...answered(first)];

    const second = demoResponder(requestWith(afterFiles));
    expect(toolUses(second).map((block) => block.input['path'])).toEqual(['README.md']);
    const readme = filesOf(second)['README.md'];
    expect(readme).toContain(`# ${escapeHtml(request)}`);
    expect(readme).not.toContain('<script>');
    for (const file of ['index.html', 'styles.css', 'app.js']) expect(readme).toContain(file);

    const third = demoResponder(requestWith([...afterFiles, ...answered(second)]));
    expect(third.stop_reason).toBe('end_turn');
    expect(toolUses(third)).toHaveLength(0);
    expect(third.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('ready') });
  });

  it('commits after the app files and after the README when git_commit is offered', () => {
    const tools = [WRITE_FILE_TOOL, { name: DEMO_COMMIT_TOOL, description: 'Commit', input_schema: { type: 'object' } }];
    const first = demoResponder(requestWith([{ role: 'user', content: 'A shopping list' }], tools));
    expect(toolUses(first).map((block) => block.name)).toEqual([DEMO_WRITE_FILE_TOOL, DEMO_WRITE_FILE_TOOL, DEMO_WRITE_FILE_TOOL, DEMO_COMMIT_TOOL]);
    expect(toolUses(first).at(-1)?.input).toEqual({ message: 'Add A shopping list: page, styles and script' });
    const second = demoResponder(requestWith([{ role: 'user', content: 'A shopping list' }, ...answered(first)], tools));
    expect(toolUses(second).map((block) => block.name)).toEqual([DEMO_WRITE_FILE_TOOL, DEMO_COMMIT_TOOL]);
    const third = demoResponder(requestWith([{ role: 'user', content: 'A shopping list' }, ...answered(first), ...answered(second)], tools));
    expect(toolUses(third)).toHaveLength(0);
  });

  it('starts a new build for a follow-up chat message in the same conversation', () => {
    const first = demoResponder(requestWith([{ role: 'user', content: 'todo' }]));
    const second = demoResponder(requestWith([{ role: 'user', content: 'todo' }, ...answered(first)]));
    const history = [{ role: 'user', content: 'todo' }, ...answered(first), ...answered(second), { role: 'assistant', content: 'Done.' }];

    const followUp = demoResponder(requestWith([...history, { role: 'user', content: [{ type: 'text', text: 'Make it about books' }] }]));

    expect(Object.keys(filesOf(followUp))).toEqual(['index.html', 'styles.css', 'app.js']);
    expect(filesOf(followUp)['index.html']).toContain('<h1>Make it about books</h1>');
    const readme = demoResponder(requestWith([...history, { role: 'user', content: 'Make it about books' }, ...answered(followUp)]));
    expect(toolUses(readme).map((block) => block.input['path'])).toEqual(['README.md']);
  });

  it('stops with an explanation when a file write failed', () => {
    const first = demoResponder(requestWith([{ role: 'user', content: 'todo' }]));

    const reply = demoResponder(requestWith([{ role: 'user', content: 'todo' }, ...answered(first, true)]));

    expect(reply.stop_reason).toBe('end_turn');
    expect(toolUses(reply)).toHaveLength(0);
    expect(reply.content[0]).toMatchObject({ text: expect.stringContaining('disk full') });
  });

  it('does not call write_file when the request offers other tools only', () => {
    const reply = demoResponder(requestWith([{ role: 'user', content: 'todo' }], [{ name: 'read_file', input_schema: { type: 'object' } }]));

    expect(toolUses(reply)).toHaveLength(0);
    expect(reply.stop_reason).toBe('end_turn');
  });

  it('shortens long requests for the title and falls back when empty', () => {
    expect(appTitle('  a\n\nb  ')).toBe('a b');
    expect(Array.from(appTitle('x'.repeat(200)))).toHaveLength(80);
    expect(appTitle('x'.repeat(200)).endsWith('…')).toBe(true);
    expect(appTitle('   ')).toBe('My to-do app');
  });

  it('drives a whole agent run through the real SDK and the fake, streaming, until end_turn', async () => {
    const fake = new AnthropicFake().respondWith(demoResponder);
    const baseURL = await fake.start();
    try {
      const anthropic = new Anthropic({ apiKey: 'demo', baseURL, maxRetries: 0 });
      const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'A habit tracker' }];
      const written = new Map<string, string>();
      let reply: Anthropic.Message | undefined;

      for (let turn = 0; turn < 6; turn++) {
        reply = await anthropic.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 8192, tools: [WRITE_FILE_TOOL], messages }).finalMessage();
        messages.push({ role: 'assistant', content: reply.content });
        if (reply.stop_reason !== 'tool_use') break;
        const results: Anthropic.ToolResultBlockParam[] = [];
        for (const block of reply.content) {
          if (block.type !== 'tool_use') continue;
          const input = block.input as { path: string; content: string };
          written.set(input.path, input.content);
          results.push({ type: 'tool_result', tool_use_id: block.id, content: `wrote ${input.path}` });
        }
        messages.push({ role: 'user', content: results });
      }

      expect(reply?.stop_reason).toBe('end_turn');
      expect(fake.requests).toHaveLength(3);
      expect([...written.keys()]).toEqual(['index.html', 'styles.css', 'app.js', 'README.md']);
      expect(written.get('index.html')).toContain('<h1>A habit tracker</h1>');
    } finally {
      await fake.stop();
    }
  });
});

// ---- a DOM just big enough for the generated app.js ----

type Listener = (event: FakeEvent) => void;

interface FakeEvent {
  defaultPrevented: boolean;
  preventDefault(): void;
}

class FakeElement {
  children: FakeElement[] = [];
  className = '';
  type = '';
  value = '';
  textContent = '';
  checked = false;
  disabled = false;
  private readonly attributes = new Map<string, string>();
  private readonly listeners = new Map<string, Listener[]>();

  constructor(readonly tagName: string) {}

  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  append(...nodes: FakeElement[]): void {
    this.children.push(...nodes);
  }

  replaceChildren(...nodes: FakeElement[]): void {
    this.children = nodes;
  }

  dispatch(type: string): FakeEvent {
    const event: FakeEvent = {
      defaultPrevented: false,
      preventDefault() {
        this.defaultPrevented = true;
      },
    };
    for (const listener of this.listeners.get(type) ?? []) listener(event);
    return event;
  }
}

class MemoryStorage {
  private readonly values = new Map<string, string>();
  getItem(key: string): string | null {
    return this.values.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.values.set(key, String(value));
  }
}

class DeniedStorage {
  getItem(): never {
    throw new Error('SecurityError: storage is disabled');
  }
  setItem(): never {
    throw new Error('SecurityError: storage is disabled');
  }
}

function loadPage(appJs: string, localStorage: MemoryStorage | DeniedStorage) {
  const page = {
    form: new FakeElement('form'),
    input: new FakeElement('input'),
    list: new FakeElement('ul'),
    remaining: new FakeElement('span'),
    clearDone: new FakeElement('button'),
  };
  const byId: Record<string, FakeElement> = {
    'new-task-form': page.form,
    'new-task-input': page.input,
    'task-list': page.list,
    'remaining-count': page.remaining,
    'clear-done': page.clearDone,
  };
  const document = {
    getElementById: (id: string) => byId[id] ?? null,
    createElement: (tagName: string) => new FakeElement(tagName),
  };
  runInNewContext(appJs, { document, localStorage });
  return page;
}

function taskText(item: FakeElement): string {
  return item.children.find((child) => child.className === 'task-text')?.textContent ?? '';
}
