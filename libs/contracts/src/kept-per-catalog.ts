// A tool definition's text (an ai.v1 ToolDefinition's fields), as the services that keep what they
// make of a catalog read it.
export interface ToolDefinitionText {
  name: string;
  description: string;
  inputSchemaJson: string;
}

// What a service made of a tool catalog (mapped, encoded, measured), kept for the next run or call
// that sends the same catalog. A catalog is found by comparing its strings with a kept one's,
// field by field: no key is built from its ~20 KB of text on every ask. At most `max` catalogs are
// kept; past that the oldest goes. Nothing is kept when `make` throws.
export class KeptPerCatalog<V> {
  private readonly entries: Array<{ chars: number; tools: ToolDefinitionText[]; value: V }> = [];

  constructor(private readonly max: number) {}

  get(tools: ReadonlyArray<ToolDefinitionText>, make: () => V): V {
    // The catalog's length in characters tells most catalogs apart before any string is compared.
    const chars = charsOf(tools);
    for (const entry of this.entries) if (entry.chars === chars && sameCatalog(entry.tools, tools)) return entry.value;
    const value = make();
    if (this.entries.length >= this.max) this.entries.shift();
    this.entries.push({ chars, tools: tools.map(ownCopy), value });
    return value;
  }
}

function charsOf(tools: ReadonlyArray<ToolDefinitionText>): number {
  let chars = 0;
  for (const t of tools) chars += t.name.length + t.description.length + t.inputSchemaJson.length;
  return chars;
}

function sameCatalog(kept: ReadonlyArray<ToolDefinitionText>, tools: ReadonlyArray<ToolDefinitionText>): boolean {
  if (kept.length !== tools.length) return false;
  for (let i = 0; i < tools.length; i++) {
    const a = kept[i];
    const b = tools[i];
    if (!a || !b || a.name !== b.name || a.description !== b.description || a.inputSchemaJson !== b.inputSchemaJson) return false;
  }
  return true;
}

// Strings of their own: a decoded request's strings may be cut from its whole text, which a kept
// slice would hold on to. JSON's round trip makes a new string, equal to the old in every code unit.
function ownCopy(tool: ToolDefinitionText): ToolDefinitionText {
  const copy = (s: string) => JSON.parse(JSON.stringify(s)) as string;
  return { name: copy(tool.name), description: copy(tool.description), inputSchemaJson: copy(tool.inputSchemaJson) };
}
