import { screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { controllableStream, json, mockFetch, renderSignedIn, session, sse } from '../test-utils';
import { RunTimeline } from './RunTimeline';

afterEach(() => vi.unstubAllGlobals());

const run = (status: string, steps: Array<{ seq: number; kind: string }>) => ({
  id: 'r1',
  appId: 'a1',
  status,
  error: null,
  commitSha: null,
  iterations: 1,
  inputTokens: 1200,
  outputTokens: 300,
  costUsd: 0.0123,
  createdAt: new Date(0).toISOString(),
  finishedAt: null,
  steps: steps.map((s) => ({ ...s, summary: `${s.kind} ${s.seq}`, createdAt: new Date(0).toISOString() })),
});

describe('<RunTimeline>', () => {
  it('shows each step once across a dropped connection, resuming after the last seq', async () => {
    const streams = [controllableStream(), controllableStream()];
    const [first, second] = [...streams];
    const eventRequests: Array<string | undefined> = [];
    const { calls } = mockFetch({
      'GET /api/session': () => json(session('member')),
      'GET /api/runs/r1': () => json(run('running', [{ seq: 1, kind: 'run_started' }])),
      'GET /api/runs/r1/events': (_url, init) => {
        eventRequests.push((init.headers as Record<string, string>)['last-event-id']);
        return (streams.shift() as ReturnType<typeof controllableStream>).response;
      },
    });
    const onFinished = vi.fn();
    renderSignedIn(<RunTimeline runId="r1" onFinished={onFinished} />);

    const list = await screen.findByTestId('run-steps');
    await waitFor(() => expect(eventRequests).toEqual(['1']));
    first!.send(sse(1, 'run_started') + sse(2, 'model_call'));
    await within(list).findByText('model_call 2');
    first!.drop();
    await screen.findByText('Reconnecting…');
    await waitFor(() => expect(eventRequests).toEqual(['1', '2']));
    second!.send(sse(2, 'model_call') + sse(3, 'tool_call') + sse(4, 'run_completed', 'completed'));
    await waitFor(() => expect(onFinished).toHaveBeenCalledTimes(1));

    const seqs = within(list)
      .getAllByRole('listitem')
      .map((li) => li.getAttribute('data-seq'));
    expect(seqs).toEqual(['1', '2', '3', '4']);
    // Tool calls are collapsed: their detail is inside a closed <details>.
    const details = within(list).getByText('tool_call 3', { selector: 'pre' }).closest('details') as HTMLDetailsElement;
    expect(details.open).toBe(false);
    expect(screen.getByText(/1,200 in \/ 300 out tokens · \$0\.0123/)).toBeTruthy();
    expect(calls.filter((c) => c.path === '/api/runs/r1/events')).toHaveLength(2);
  });

  it('does not open a stream for a finished run, and offers cancel only to keys that may cancel', async () => {
    mockFetch({
      'GET /api/session': () => json(session('viewer')),
      'GET /api/runs/r1': () => json(run('running', [{ seq: 1, kind: 'run_started' }])),
      'GET /api/runs/r1/events': () => controllableStream().response,
    });
    renderSignedIn(<RunTimeline runId="r1" onFinished={() => undefined} />);
    await screen.findByTestId('run-steps');
    expect(screen.queryByRole('button', { name: 'Cancel run' })).toBeNull();
    vi.unstubAllGlobals();

    const { calls } = mockFetch({
      'GET /api/session': () => json(session('member')),
      'GET /api/runs/r1': () =>
        json(
          run('completed', [
            { seq: 1, kind: 'run_started' },
            { seq: 2, kind: 'run_completed' },
          ]),
        ),
    });
    renderSignedIn(<RunTimeline runId="r1" onFinished={() => undefined} />);
    await screen.findAllByTestId('run-steps');
    expect(calls.some((c) => c.path.endsWith('/events'))).toBe(false);
  });
});
