import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import { aiV1, toolCatalogKey, type ToolDefinitionText } from '@overskill/contracts';
import { encodedOnce } from '@overskill/messaging';

// A catalog as every run of this replica uses it: its definitions made and encoded once (each
// model call copies their bytes into its request), and its JSON size, for the first call's
// estimate, counted once.
export interface KeptCatalog {
  definitions: ReadonlyArray<MessageInitShape<typeof aiV1.ToolDefinitionSchema>>;
  jsonChars: number;
}

// A few catalogs: one at a time, another while tool-runner rolls out a new one.
const KEPT_MAX = 4;

// Every run reads the same catalog (the cache's global level): the definitions are kept by the
// catalog's key, which no other catalog shares.
@Injectable()
export class KeptToolCatalogs {
  private readonly kept = new Map<string, KeptCatalog>();

  keep(tools: readonly ToolDefinitionText[]): KeptCatalog {
    const key = toolCatalogKey(tools);
    const found = this.kept.get(key);
    if (found) return found;
    const catalog: KeptCatalog = {
      definitions: Object.freeze(tools.map((t) => encodedOnce(aiV1.ToolDefinitionSchema, create(aiV1.ToolDefinitionSchema, t)))),
      jsonChars: JSON.stringify(tools).length,
    };
    if (this.kept.size >= KEPT_MAX) this.kept.delete(this.kept.keys().next().value as string);
    this.kept.set(key, catalog);
    return catalog;
  }
}
