import { buildOpenApiDocument } from './openapi';
import { ROUTES, type RouteSpec } from './routes';

describe('the generated OpenAPI document', () => {
  const doc = buildOpenApiDocument() as {
    openapi: string;
    paths: Record<
      string,
      Record<string, { operationId: string; parameters: Array<{ name: string; in: string }>; responses: Record<string, unknown>; requestBody?: unknown }>
    >;
  };
  const specs = Object.values(ROUTES) as RouteSpec[];

  it('is OpenAPI 3.1 with one operation per route, unique ids, every path parameter declared', () => {
    expect(doc.openapi).toBe('3.1.0');
    const ops = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
    expect(ops).toHaveLength(specs.length);
    expect(new Set(ops.map((o) => o.op.operationId)).size).toBe(ops.length);
    for (const { path, op } of ops) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      expect(op.parameters.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(names);
    }
  });

  it('documents the success answer, the error answers and, for mutations, the body of each route', () => {
    for (const spec of specs) {
      const op = doc.paths[spec.path.replace(/:([A-Za-z]+)/g, '{$1}')]![spec.method.toLowerCase()]!;
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining([String(spec.status), '400', '401', '403', '429']));
      if (spec.body) expect(op.requestBody).toBeDefined();
      if (spec.notImplemented) expect(op.responses['501']).toBeDefined();
    }
  });

  it('mirrors the validation schemas (one schema for both)', () => {
    const create = doc.paths['/api/apps']!.post!.requestBody as {
      content: { 'application/json': { schema: { properties: Record<string, unknown>; additionalProperties: boolean } } };
    };
    const schema = create.content['application/json'].schema;
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.template).toMatchObject({ enum: ['empty', 'static-web', 'vite-react'] });
    expect(ROUTES.createApp.body!.safeParse({ name: 'x', template: 'other' }).success).toBe(false);
  });
});
