// A tool definition's text (an ai.v1 ToolDefinition's fields), as the services that keep what they
// make of a catalog read it.
export interface ToolDefinitionText {
  name: string;
  description: string;
  inputSchemaJson: string;
}

// One string per tool catalog, for the services that keep what they make of a catalog instead of
// making it again on every run or call. Each string is led by its length, so two different
// catalogs never share a key, whatever their text holds.
export function toolCatalogKey(tools: ReadonlyArray<ToolDefinitionText>): string {
  return tools.map((t) => `${t.name.length}:${t.name}${t.description.length}:${t.description}${t.inputSchemaJson.length}:${t.inputSchemaJson}`).join('');
}
