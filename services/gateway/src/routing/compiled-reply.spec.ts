import { FASTIFY_ROUTE_SCHEMA_METADATA } from '@nestjs/platform-fastify/constants';
import Fastify from 'fastify';
import { ApiRoute, ROUTES, type RouteSpec } from './routes';

// A route marked compiledReply hands Fastify the JSON Schema of its documented response, which
// Fastify compiles into that status's serializer; every other route keeps JSON.stringify.
function routeSchemaOf(spec: RouteSpec): { response?: Record<number, object> } | undefined {
  class Probe {
    handler(): string {
      return 'probe';
    }
  }
  const descriptor = Object.getOwnPropertyDescriptor(Probe.prototype, 'handler')!;
  ApiRoute(spec)(Probe.prototype, 'handler', descriptor);
  return Reflect.getMetadata(FASTIFY_ROUTE_SCHEMA_METADATA, descriptor.value) as { response?: Record<number, object> } | undefined;
}

const app = {
  id: '0af76519-16cd-43dd-8448-eb211c80319c',
  name: 'shop "two" \u2028 ünïcode',
  description: 'line\nbreak \\ and </script>',
  template: 'static-web',
  maxIterations: 0,
  createdAt: '2026-12-05T09:58:01.123Z',
  updatedAt: '2026-12-05T09:58:01.123Z',
};

describe('compiled replies', () => {
  it('are used by the app list alone', () => {
    const marked = Object.values(ROUTES).filter((spec: RouteSpec) => spec.compiledReply);
    expect(marked.map((spec) => spec.id)).toEqual(['listApps']);
    expect(routeSchemaOf(ROUTES.getApp)).toBeUndefined();
  });

  it('write the list exactly as JSON.stringify does, and nothing outside the documented schema', async () => {
    const schema = routeSchemaOf(ROUTES.listApps);
    expect(schema?.response?.[200]).toBeDefined();
    // Fastify compiles the route's serializer from the schema, as it does for the Nest route.
    const fastify = Fastify();
    let body: unknown;
    fastify.get('/list', { schema }, async () => body);
    try {
      for (const page of [
        { data: [app, { ...app, name: '' }], nextCursor: 'MjAyNi0xMi0wNVQwOTo1ODowMS4xMjNafDBhZjc' },
        { data: [], nextCursor: null },
      ]) {
        body = page;
        expect((await fastify.inject('/list')).body).toBe(JSON.stringify(page));
      }
      // A field the document does not promise (the orchestrator's team id) never leaves.
      body = { data: [{ ...app, teamId: 'secret' }], nextCursor: null };
      expect((await fastify.inject('/list')).json()).toEqual({ data: [app], nextCursor: null });
    } finally {
      await fastify.close();
    }
  });
});
