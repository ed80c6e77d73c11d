import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { vi } from 'vitest';
import type { Role, Session } from './api/types';
import { Router } from './routing/router';
import { SessionGate } from './session/session';

export type Handler = (url: URL, init: RequestInit) => Response | Promise<Response>;

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

// A fetch that answers by "METHOD /path" (query ignored) and records every call.
export function mockFetch(routes: Record<string, Handler>) {
  const calls: Array<{ method: string; path: string; url: URL; init: RequestInit }> = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://console.test');
    const method = (init.method ?? 'GET').toUpperCase();
    calls.push({ method, path: url.pathname, url, init });
    const handler = routes[`${method} ${url.pathname}`];
    if (!handler) return json({ code: 'ROUTE_NOT_FOUND', message: `no mock for ${method} ${url.pathname}`, correlationId: 'test' }, 404);
    return handler(url, init);
  });
  vi.stubGlobal('fetch', fn);
  return { fn, calls };
}

export function session(role: Role, overrides: Partial<Session> = {}): Session {
  return { teamId: 't', keyId: 'k', keyPrefix: 'abcdefabcdef', role, scopes: [], operator: false, csrfToken: 'csrf-token', expiresAt: null, ...overrides };
}

export function renderSignedIn(ui: ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <Router>
        <SessionGate signIn={({ notice }) => <p>signed out{notice ? `: ${notice}` : ''}</p>}>{ui}</SessionGate>
      </Router>
    </QueryClientProvider>,
  );
}

// A response body that the test writes into chunk by chunk, and can cut off mid-stream.
export function controllableStream() {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return {
    response: new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } }),
    send(text: string) {
      controller.enqueue(encoder.encode(text));
    },
    drop() {
      controller.error(new TypeError('network error'));
    },
    end() {
      controller.close();
    },
  };
}

export function sse(seq: number, kind: string, status = 'running', summary = `${kind} ${seq}`): string {
  return `id: ${seq}\nevent: ${kind}\ndata: ${JSON.stringify({ runId: 'r1', seq, kind, summary, status, createdAt: new Date(0).toISOString() })}\n\n`;
}
