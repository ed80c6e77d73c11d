// What the model sees besides the current request: who it is, the app, its files, what was
// said before (recent verbatim, older condensed) and what this run already touched.

export interface HistoryMessage {
  role: string;
  content: string;
}

export interface ContextInput {
  appName: string;
  appDescription: string;
  files: string[];
  fileLimit: number;
  touched: string[];
  condensed: HistoryMessage[];
}

export const BASE_SYSTEM_PROMPT = [
  'You are overskill, an agent that builds and changes web apps in a git-backed workspace.',
  'Act only through the tools you are given. Write complete files. Keep the app working after every change.',
  'Independent read-only tool calls may be made together in one turn; they run concurrently.',
  'When the request is done, answer with a short summary of what you changed.',
].join('\n');

export function buildSystemPrompt(input: ContextInput): string {
  const parts = [BASE_SYSTEM_PROMPT, '', `App: ${input.appName}`];
  if (input.appDescription.trim()) parts.push(`Description: ${oneLine(input.appDescription, 500)}`);
  const shown = [...input.files].sort().slice(0, input.fileLimit);
  parts.push('', `Files in the workspace (${input.files.length}${input.files.length > shown.length ? `, first ${shown.length} shown` : ''}):`);
  parts.push(shown.length > 0 ? shown.map((f) => `- ${f}`).join('\n') : '(none yet)');
  if (input.touched.length > 0) parts.push('', 'Files you changed earlier in this run:', [...new Set(input.touched)].map((f) => `- ${f}`).join('\n'));
  if (input.condensed.length > 0) {
    parts.push('', 'Earlier conversation (condensed, oldest first):', input.condensed.map((m) => `- ${m.role}: ${oneLine(m.content, 200)}`).join('\n'));
  }
  return parts.join('\n');
}

// Oldest first; the newest `recent` messages stay verbatim, up to `condensed` before them are
// shortened to one line. Consecutive messages of one role are merged and the history starts
// with a user message, as the Messages API requires.
export function splitHistory(
  messagesOldestFirst: HistoryMessage[],
  recent: number,
  condensed: number,
): { recent: HistoryMessage[]; condensed: HistoryMessage[] } {
  const cut = Math.max(0, messagesOldestFirst.length - recent);
  const verbatim: HistoryMessage[] = [];
  for (const m of messagesOldestFirst.slice(cut)) {
    const last = verbatim[verbatim.length - 1];
    if (last && last.role === m.role) last.content = `${last.content}\n\n${m.content}`;
    else verbatim.push({ role: m.role, content: m.content });
  }
  while (verbatim[0] && verbatim[0].role !== 'user') verbatim.shift();
  // The current request follows as a user message: the verbatim part must end with the assistant.
  while (verbatim.at(-1)?.role === 'user') verbatim.pop();
  return { recent: verbatim, condensed: messagesOldestFirst.slice(Math.max(0, cut - condensed), cut) };
}

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
