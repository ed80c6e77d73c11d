import type Anthropic from '@anthropic-ai/sdk';

// The tool list's JSON, by list: completion-mapping hands every turn of a run the same frozen list.
const toolsJson = new WeakMap<readonly Anthropic.ToolUnion[], string>();

// The request's JSON as the SDK would write it (JSON.stringify), with the tool list, about 13 KB of
// schemas sent again on every turn, written once per list instead of on every call. Only the key
// order differs: the tools come last.
export function anthropicRequestBody(request: { tools?: readonly Anthropic.ToolUnion[] }): string {
  const { tools, ...rest } = request;
  const head = JSON.stringify(rest);
  if (!tools || tools.length === 0) return head;
  let json = toolsJson.get(tools);
  if (json === undefined) {
    json = JSON.stringify(tools);
    // Only a list no one can change may stand for its JSON later: a frozen list is taken to be
    // frozen all the way down, as toChatParams freezes it.
    if (Object.isFrozen(tools)) toolsJson.set(tools, json);
  }
  return head === '{}' ? `{"tools":${json}}` : `${head.slice(0, -1)},"tools":${json}}`;
}
