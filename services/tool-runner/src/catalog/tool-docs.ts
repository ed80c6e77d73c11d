import type { ToolRunnerEnv } from '../config';
import { toolLimits } from '../execution/tool-limits';
import { TOOL_CATALOG } from './tool-catalog';
import type { JsonSchema } from './tool-definition';

export const DOCS_BEGIN = '<!-- tool-catalog:begin (generated from the tool definitions: node services/tool-runner/scripts/write-tool-docs.mjs) -->';
export const DOCS_END = '<!-- tool-catalog:end -->';

const WRITES: Record<string, string> = { workspace: 'yes (app write lock)', delegated: 'yes (lock taken by the owner)', none: 'no' };

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function describeParameter(name: string, schema: JsonSchema, required: boolean): string {
  const type = schema.enum ? (schema.enum as unknown[]).map((v) => JSON.stringify(v)).join(' \\| ') : String(schema.type ?? 'any');
  const bounds = [
    schema.minimum !== undefined ? `≥ ${schema.minimum}` : '',
    schema.maximum !== undefined ? `≤ ${schema.maximum}` : '',
    schema.maxLength !== undefined ? `≤ ${schema.maxLength} chars` : '',
    schema.maxItems !== undefined ? `≤ ${schema.maxItems} items` : '',
  ].filter(Boolean);
  return `\`${name}\`${required ? '' : '?'}: ${type}${bounds.length ? ` (${bounds.join(', ')})` : ''}`;
}

// The table in docs/tool-runner.md, rendered with the default limits (the seed's tool_limits).
export function renderToolTable(
  env: Pick<
    ToolRunnerEnv,
    'TOOL_MAX_FILE_SIZE_BYTES' | 'TOOL_MAX_SEARCH_RESULTS' | 'TOOL_MAX_IMAGE_PIXELS' | 'TOOL_SEARCH_TIMEOUT_MS' | 'TOOL_FETCH_MAX_BYTES'
  >,
): string {
  const limits = toolLimits(env);
  const rows = [...TOOL_CATALOG.values()].map((def) => {
    const schema = def.inputSchema(limits);
    const required = new Set((schema.required as string[] | undefined) ?? []);
    const params = Object.entries((schema.properties as Record<string, JsonSchema> | undefined) ?? {}).map(([name, prop]) =>
      describeParameter(name, prop, required.has(name)),
    );
    return `| \`${def.name}\` | ${cell(def.description(limits))} | ${params.join('<br>') || '—'} | ${WRITES[def.writes]} | ${def.delegatesTo ?? 'tool-runner'} |`;
  });
  return [DOCS_BEGIN, '| tool | what the model is told | input | writes | done by |', '|---|---|---|---|---|', ...rows, DOCS_END].join('\n');
}
