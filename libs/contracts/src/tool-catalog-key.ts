// One string per tool catalog (a list of ai.v1 ToolDefinitions), for the services that keep what
// they make of a catalog instead of making it again on every run or call. Each string is led by
// its length, so two different catalogs never share a key, whatever their text holds.
export function toolCatalogKey(tools: ReadonlyArray<{ name: string; description: string; inputSchemaJson: string }>): string {
  return tools.map((t) => `${t.name.length}:${t.name}${t.description.length}:${t.description}${t.inputSchemaJson.length}:${t.inputSchemaJson}`).join('');
}
