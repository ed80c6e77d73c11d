import type { MessageInitShape } from '@bufbuild/protobuf';
import { aiV1 } from '@overskill/contracts';
import type { MessageEntity, RunStepEntity } from '../persistence/entities';
import type { RunStart } from './runs.repository';
import type { buildSystemPrompt } from './run-context';
import type { KeptCatalog } from './kept-tool-catalogs';

export type ChatMessageInit = MessageInitShape<typeof aiV1.ChatMessageSchema>;
type ContentBlockInit = MessageInitShape<typeof aiV1.ContentBlockSchema>;

// How model output is checkpointed: enough to rebuild the conversation after a crash.
export type StoredBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; inputJson: string };

export interface ToolUse {
  id: string;
  name: string;
  inputJson: string;
}

export interface ToolOutcome {
  toolUseId: string;
  name: string;
  output: string;
  isError: boolean;
  errorCode: string;
  bytesWritten: number;
  inDoubt?: boolean;
}

export interface RunContext {
  tools: KeptCatalog;
  history: ChatMessageInit[];
  promptInput: Omit<Parameters<typeof buildSystemPrompt>[0], 'touched'>;
  system: string;
}

// Tool inputs that name the files a call changes.
const PATH_FIELDS = ['path', 'from', 'to', 'new_path', 'old_path', 'destination'];

// What the loop keeps in memory, rebuilt from the run row and its checkpoints on resume.
export class RunState {
  baseSha = '';
  iterations: number;
  tokens: number;
  costUsd: number;
  touched: string[] = [];
  context?: RunContext;
  team?: { usd: number; readAt: number; runCostAtRead: number };
  costLog?: Array<{ at: number; usd: number }>;

  // The app's conversation before the run's message, oldest first.
  readonly history: MessageEntity[];

  // From what the claim brought back: the run row, its checkpoints, and the team's spend, whose
  // read includes the run's own cost as claimed (the budget's first figure).
  constructor({ run, steps, history, teamSpend }: RunStart) {
    this.iterations = steps.filter((s) => s.kind === 'model_call').length;
    this.tokens = Number(run.inputTokens) + Number(run.outputTokens);
    this.costUsd = Number(run.costUsd);
    this.history = history;
    if (teamSpend) this.team = { ...teamSpend, runCostAtRead: this.costUsd };
  }
}

export function userText(text: string): ChatMessageInit {
  return { role: aiV1.Role.USER, content: [{ block: { case: 'text', value: { text } } }] };
}

export function toContentBlock(b: StoredBlock): ContentBlockInit {
  return b.type === 'text'
    ? { block: { case: 'text', value: { text: b.text } } }
    : { block: { case: 'toolUse', value: { id: b.id, name: b.name, inputJson: b.inputJson } } };
}

export function toResultBlock(o: ToolOutcome): ContentBlockInit {
  return { block: { case: 'toolResult', value: { toolUseId: o.toolUseId, content: o.output, isError: o.isError } } };
}

export function outcomeFrom(step: RunStepEntity): ToolOutcome {
  const d = step.data;
  return {
    toolUseId: String(d['toolUseId']),
    name: String(d['name'] ?? ''),
    output: String(d['output'] ?? ''),
    isError: Boolean(d['isError']),
    errorCode: String(d['errorCode'] ?? ''),
    bytesWritten: Number(d['bytesWritten'] ?? 0),
    inDoubt: Boolean(d['inDoubt']),
  };
}

export function changedWorkspace(outcome: ToolOutcome, readOnly: ReadonlySet<string>): boolean {
  return !outcome.isError && !readOnly.has(outcome.name);
}

// Whether the round since the last commit may have changed the workspace: a call of any tool
// that is not read-only, failed or in doubt included (a failing command may have written).
export function roundMayHaveWritten(steps: readonly RunStepEntity[], readOnly: ReadonlySet<string>): boolean {
  for (let i = steps.length - 1; i >= 0 && steps[i].kind !== 'commit'; i--) {
    if (steps[i].kind === 'tool_call' && !readOnly.has(String(steps[i].data['name'] ?? ''))) return true;
  }
  return false;
}

export function pathsIn(inputJson: string): string[] {
  try {
    const input = JSON.parse(inputJson) as Record<string, unknown>;
    return PATH_FIELDS.flatMap((f) => (typeof input[f] === 'string' ? [input[f]] : []));
  } catch {
    return [];
  }
}
