import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { Injectable } from '@nestjs/common';
import { aiV1, KeptPerCatalog, type ToolDefinitionText } from '@overskill/contracts';
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

// Every run reads the same catalog (the cache's global level): the definitions are kept per catalog.
@Injectable()
export class KeptToolCatalogs {
  private readonly kept = new KeptPerCatalog<KeptCatalog>(KEPT_MAX);

  keep(tools: readonly ToolDefinitionText[]): KeptCatalog {
    return this.kept.get(tools, () => ({
      definitions: Object.freeze(tools.map((t) => encodedOnce(aiV1.ToolDefinitionSchema, create(aiV1.ToolDefinitionSchema, t)))),
      jsonChars: JSON.stringify(tools).length,
    }));
  }
}
