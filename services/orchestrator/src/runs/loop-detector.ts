// A run is looping when the same tool call (same tool, same input) shows up in `repeatTurns`
// consecutive turns, or `idleTurns` consecutive turns call tools but change nothing.

export interface TurnCalls {
  calls: Array<{ name: string; inputJson: string; changedWorkspace: boolean }>;
}

export type LoopVerdict = { looping: false } | { looping: true; reason: string };

export class LoopDetector {
  private readonly turns: Array<{ signatures: Set<string>; changed: boolean; names: Map<string, string> }> = [];

  constructor(
    private readonly repeatTurns: number,
    private readonly idleTurns: number,
  ) {}

  record(turn: TurnCalls): LoopVerdict {
    const names = new Map<string, string>();
    for (const c of turn.calls) names.set(signature(c.name, c.inputJson), c.name);
    this.turns.push({ signatures: new Set(names.keys()), changed: turn.calls.some((c) => c.changedWorkspace), names });

    const [first, ...rest] = this.turns.slice(-this.repeatTurns);
    if (first && rest.length === this.repeatTurns - 1) {
      for (const sig of first.signatures) {
        if (rest.every((t) => t.signatures.has(sig))) {
          return { looping: true, reason: `the same ${first.names.get(sig)} call with the same input was repeated in ${this.repeatTurns} turns in a row` };
        }
      }
    }
    const idle = this.turns.slice(-this.idleTurns);
    if (idle.length === this.idleTurns && idle.every((t) => !t.changed)) {
      return { looping: true, reason: `${this.idleTurns} turns in a row called tools without changing the workspace` };
    }
    return { looping: false };
  }
}

// Key order does not make two inputs different.
function signature(name: string, inputJson: string): string {
  try {
    return `${name}:${JSON.stringify(sortKeys(JSON.parse(inputJson || '{}')))}`;
  } catch {
    return `${name}:${inputJson}`;
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
