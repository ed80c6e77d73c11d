import type { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';

export type Json = Record<string, unknown>;

// The JSON Schema of a zod schema, as the OpenAPI document and the compiled reply serializers use it.
export function jsonSchemaOf(schema: z.ZodTypeAny, io: 'input' | 'output' = 'output'): Json {
  const out = zodToJsonSchema(schema, { target: 'jsonSchema2019-09', $refStrategy: 'none', effectStrategy: 'input', pipeStrategy: io }) as Json;
  delete out.$schema;
  return out;
}
