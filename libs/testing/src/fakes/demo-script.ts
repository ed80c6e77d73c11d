import type { FakeResponder, FakeTurn, RecordedAnthropicRequest } from './anthropic-fake';

// The model stand-in for `npm start` without ANTHROPIC_API_KEY: a real-looking agent run that builds a
// small offline to-do app in three turns (app files → README → summary). When the git_commit tool is
// offered, each of the first two turns ends with a commit, so one request leaves a few versions to
// browse and restore. Stateless: every decision comes from the conversation in the request, so any
// number of apps and restarts work.

export const DEMO_WRITE_FILE_TOOL = 'write_file';
export const DEMO_COMMIT_TOOL = 'git_commit';
export const DEMO_APP_FILES = ['index.html', 'styles.css', 'app.js'] as const;
// A request that mentions a bug gets a first version whose script throws as the page loads, so a
// newcomer can watch the preview check catch it and the next turn fix it.
export const DEMO_BUG_REQUEST = /\bbug\b/i;
// How the orchestrator's preview feedback turn begins.
export const DEMO_PREVIEW_FEEDBACK = 'The preview shows these errors';

const MAX_TITLE_LENGTH = 80;
const FALLBACK_TITLE = 'My to-do app';

interface DemoBlock {
  type: string;
  text?: string;
  is_error?: boolean;
  content?: unknown;
}

interface DemoMessage {
  role: 'user' | 'assistant';
  content: string | DemoBlock[];
}

export const demoResponder: FakeResponder = (request: RecordedAnthropicRequest): FakeTurn => {
  const messages: DemoMessage[] = Array.isArray(request.body?.messages) ? request.body.messages : [];
  const last = messages[messages.length - 1];
  if (!last || last.role !== 'user') {
    return textTurn('Tell me what you would like to build and I will write it.');
  }
  if (!offersWriteFile(request.body?.tools)) {
    return textTurn(`I need the \`${DEMO_WRITE_FILE_TOOL}\` tool to build an app, and it was not offered in this request.`);
  }

  const requestIndex = findLastIndex(messages, (message) => message.role === 'user' && !carriesToolResults(message));
  const requestText = requestIndex >= 0 ? textOf(messages[requestIndex]) : '';
  // The platform's headless preview check found errors in the last version: fix them.
  if (requestText.startsWith(DEMO_PREVIEW_FEEDBACK)) return carriesToolResults(last) ? fixedTurn() : fixTurn(requestText);
  const title = appTitle(requestText);
  const commits = offers(request.body?.tools, DEMO_COMMIT_TOOL);
  if (!carriesToolResults(last)) return appFilesTurn(title, commits, DEMO_BUG_REQUEST.test(requestText));

  const failures = toolResults(last).filter((block) => block.is_error === true);
  if (failures.length > 0) {
    const reasons = failures.map((block) => textOf({ role: 'user', content: blockContent(block) })).filter(Boolean);
    return textTurn(`Writing the files failed, so I stopped here.${reasons.length ? ` The tool said: ${reasons.join('; ')}` : ''}`);
  }
  const assistantTurns = messages.slice(requestIndex + 1).filter((message) => message.role === 'assistant').length;
  return assistantTurns < 2 ? readmeTurn(title, commits) : summaryTurn(title);
};

function commitBlock(message: string): FakeTurn['content'][number] {
  return { type: 'tool_use', name: DEMO_COMMIT_TOOL, input: { message } };
}

function fixTurn(feedback: string): FakeTurn {
  const error =
    feedback
      .split('\n')
      .find((line) => line.startsWith('- '))
      ?.slice(2) ?? 'an error';
  return {
    content: [
      { type: 'text', text: `The preview check caught "${error.split('\n')[0]}": app.js calls renderAll(), which does not exist. I'll call render() instead.` },
      writeFile('app.js', APP_JS),
    ],
  };
}

function fixedTurn(): FakeTurn {
  return textTurn('Fixed: app.js calls render() again, so the task list shows up. The preview check will confirm it.');
}

function appFilesTurn(title: string, commit: boolean, buggy = false): FakeTurn {
  return {
    content: [
      {
        type: 'text',
        text:
          `I'll build "${title}" as a small to-do list that works offline: an HTML page, a stylesheet ` + 'and a script that keeps your tasks in this browser.',
      },
      writeFile('index.html', indexHtml(title)),
      writeFile('styles.css', STYLES_CSS),
      writeFile('app.js', buggy ? BUGGY_APP_JS : APP_JS),
      ...(commit ? [commitBlock(`Add ${title}: page, styles and script`)] : []),
    ],
  };
}

function readmeTurn(title: string, commit: boolean): FakeTurn {
  return {
    content: [
      { type: 'text', text: 'The app files are in place. Now I will add a README that explains how to use it.' },
      writeFile('README.md', readme(title)),
      ...(commit ? [commitBlock('Add a README with usage notes')] : []),
    ],
  };
}

function summaryTurn(title: string): FakeTurn {
  return textTurn(
    `Done: "${title}" is ready. Open index.html in the preview to use it.\n\n` +
      '- `index.html` – the page and its form\n' +
      '- `styles.css` – the layout and colours\n' +
      '- `app.js` – adding, ticking off and deleting tasks, saved in localStorage so it works offline\n' +
      '- `README.md` – how to use and change it\n\n' +
      'Tell me what to change next.',
  );
}

function textTurn(text: string): FakeTurn {
  return { content: [{ type: 'text', text }], stop_reason: 'end_turn' };
}

function writeFile(path: string, content: string): FakeTurn['content'][number] {
  return { type: 'tool_use', name: DEMO_WRITE_FILE_TOOL, input: { path, content } };
}

function offersWriteFile(tools: unknown): boolean {
  // No tools at all: demo mode stays lenient so a bare client still sees the whole run.
  if (!Array.isArray(tools)) return true;
  return offers(tools, DEMO_WRITE_FILE_TOOL);
}

function offers(tools: unknown, name: string): boolean {
  return Array.isArray(tools) && tools.some((tool) => typeof tool === 'object' && tool !== null && (tool as { name?: unknown }).name === name);
}

function carriesToolResults(message: DemoMessage): boolean {
  return toolResults(message).length > 0;
}

function toolResults(message: DemoMessage): DemoBlock[] {
  return Array.isArray(message.content) ? message.content.filter((block) => block?.type === 'tool_result') : [];
}

function blockContent(block: DemoBlock): string | DemoBlock[] {
  return typeof block.content === 'string' || Array.isArray(block.content) ? (block.content as string | DemoBlock[]) : '';
}

function textOf(message: DemoMessage): string {
  if (typeof message.content === 'string') return message.content;
  return message.content
    .filter((block) => block?.type === 'text' && typeof block.text === 'string')
    .map((block) => block.text)
    .join('\n');
}

function findLastIndex<T>(items: T[], predicate: (item: T) => boolean): number {
  for (let index = items.length - 1; index >= 0; index--) {
    if (predicate(items[index])) return index;
  }
  return -1;
}

/** The user's request on one line, cut to a title's length; raw text, escape it where it lands. */
export function appTitle(requestText: string): string {
  const oneLine = requestText.replace(/\s+/g, ' ').trim();
  if (oneLine.length === 0) return FALLBACK_TITLE;
  const codePoints = Array.from(oneLine);
  return codePoints.length <= MAX_TITLE_LENGTH
    ? oneLine
    : `${codePoints
        .slice(0, MAX_TITLE_LENGTH - 1)
        .join('')
        .trimEnd()}…`;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function indexHtml(title: string): string {
  const safeTitle = escapeHtml(title);
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${safeTitle}</title>
  <link rel="stylesheet" href="styles.css">
</head>
<body>
  <main class="app">
    <header>
      <h1>${safeTitle}</h1>
      <p class="subtitle">A to-do list that works offline: your tasks are saved in this browser.</p>
    </header>
    <form id="new-task-form" class="new-task" autocomplete="off">
      <label for="new-task-input" class="visually-hidden">New task</label>
      <input id="new-task-input" name="task" type="text" placeholder="What needs doing?" maxlength="200" required>
      <button type="submit">Add</button>
    </form>
    <ul id="task-list" class="task-list" aria-live="polite"></ul>
    <footer class="summary">
      <span id="remaining-count">0 tasks left</span>
      <button id="clear-done" type="button">Clear completed</button>
    </footer>
  </main>
  <script src="app.js" defer></script>
</body>
</html>
`;
}

const STYLES_CSS = `:root {
  --accent: #4f46e5;
  --accent-dark: #3730a3;
  --text: #1f2937;
  --muted: #6b7280;
  --surface: #ffffff;
  --background: #f3f4f6;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--text);
  background: var(--background);
}

* {
  box-sizing: border-box;
}

body {
  margin: 0;
  min-height: 100vh;
  display: flex;
  justify-content: center;
  align-items: flex-start;
  padding: 3rem 1rem;
}

.app {
  width: 100%;
  max-width: 32rem;
  background: var(--surface);
  border-radius: 12px;
  box-shadow: 0 10px 30px rgba(0, 0, 0, 0.08);
  padding: 1.5rem;
}

h1 {
  margin: 0 0 0.25rem;
  font-size: 1.5rem;
  overflow-wrap: anywhere;
}

.subtitle {
  margin: 0 0 1.25rem;
  color: var(--muted);
}

.new-task {
  display: flex;
  gap: 0.5rem;
}

.new-task input {
  flex: 1;
  padding: 0.6rem 0.75rem;
  border: 1px solid #d1d5db;
  border-radius: 8px;
  font-size: 1rem;
}

button {
  padding: 0.6rem 1rem;
  border: none;
  border-radius: 8px;
  background: var(--accent);
  color: #ffffff;
  font-size: 1rem;
  cursor: pointer;
}

button:hover {
  background: var(--accent-dark);
}

button:disabled {
  opacity: 0.5;
  cursor: default;
}

.task-list {
  list-style: none;
  margin: 1.25rem 0;
  padding: 0;
}

.task {
  display: flex;
  align-items: center;
  gap: 0.75rem;
  padding: 0.6rem 0;
  border-bottom: 1px solid #e5e7eb;
}

.task-text {
  flex: 1;
  overflow-wrap: anywhere;
}

.task.done .task-text {
  color: var(--muted);
  text-decoration: line-through;
}

.task .remove {
  padding: 0.2rem 0.6rem;
  background: transparent;
  color: var(--muted);
  font-size: 1.25rem;
}

.task .remove:hover {
  color: #dc2626;
  background: transparent;
}

.summary {
  display: flex;
  justify-content: space-between;
  align-items: center;
  color: var(--muted);
}

.visually-hidden {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip: rect(0 0 0 0);
  white-space: nowrap;
}
`;

const APP_JS = `'use strict';

// Tasks live in localStorage, so the list survives reloads and needs no network at all.
const STORAGE_KEY = 'overskill-demo-tasks';

const form = document.getElementById('new-task-form');
const input = document.getElementById('new-task-input');
const list = document.getElementById('task-list');
const remaining = document.getElementById('remaining-count');
const clearDone = document.getElementById('clear-done');

function loadTasks() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || '[]');
    return Array.isArray(saved) ? saved : [];
  } catch (error) {
    // Private mode or a sandboxed preview frame may deny storage: start empty rather than break.
    return [];
  }
}

let tasks = loadTasks();

function saveTasks() {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(tasks));
  } catch (error) {
    // Without storage the list still works until the page is closed.
  }
}

function update(change) {
  change();
  saveTasks();
  render();
}

function renderTask(task) {
  const item = document.createElement('li');
  item.className = task.done ? 'task done' : 'task';

  const checkbox = document.createElement('input');
  checkbox.type = 'checkbox';
  checkbox.checked = task.done;
  checkbox.setAttribute('aria-label', 'Done: ' + task.text);
  checkbox.addEventListener('change', () => update(() => { task.done = checkbox.checked; }));

  const text = document.createElement('span');
  text.className = 'task-text';
  text.textContent = task.text;

  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'remove';
  remove.textContent = '\\u00d7';
  remove.setAttribute('aria-label', 'Delete: ' + task.text);
  remove.addEventListener('click', () => update(() => { tasks = tasks.filter((other) => other.id !== task.id); }));

  item.append(checkbox, text, remove);
  return item;
}

function render() {
  list.replaceChildren(...tasks.map(renderTask));
  const left = tasks.filter((task) => !task.done).length;
  remaining.textContent = left === 1 ? '1 task left' : left + ' tasks left';
  clearDone.disabled = !tasks.some((task) => task.done);
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  update(() => {
    tasks.push({ id: Date.now().toString(36) + Math.random().toString(36).slice(2, 8), text, done: false });
  });
  input.value = '';
});

clearDone.addEventListener('click', () => update(() => { tasks = tasks.filter((task) => !task.done); }));

render();
`;

const BUGGY_APP_JS = APP_JS.replace(/\nrender\(\);\n$/, '\nrenderAll();\n');

function readme(title: string): string {
  // Markdown renderers pass raw HTML through, so the user's words are escaped here too.
  const safeTitle = escapeHtml(title);
  return `# ${safeTitle}

A small to-do list built from your request: "${safeTitle}".

## Use it

Open \`index.html\` in a browser (or the preview). Type a task and press **Add**; tick a task when it
is done, press **×** to delete it, and **Clear completed** to tidy up. Tasks are kept in the browser's
\`localStorage\`, so the app works offline and remembers your list between visits.

## Files

| file | what it does |
|---|---|
| \`index.html\` | the page: heading, the form for new tasks and the list |
| \`styles.css\` | layout and colours |
| \`app.js\` | adds, ticks off, deletes and saves tasks |

No build step and no dependencies: edit a file and reload the page.
`;
}
