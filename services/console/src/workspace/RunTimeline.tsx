import { api } from '@console/api/client';
import type { Run, RunStep } from '@console/api/types';
import { can } from '@console/session/permissions';
import { useSession } from '@console/session/session';
import { ErrorNotice } from '@console/ui/states';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { isFinalStatus, streamRunEvents, type RunEvent, type StreamState } from './run-stream';

const KIND_LABELS: Record<string, string> = {
  run_started: 'Started',
  model_call: 'Model turn',
  tool_call: 'Tool call',
  commit: 'Commit',
  run_completed: 'Completed',
  run_failed: 'Failed',
  run_cancelled: 'Cancelled',
  run_resumed: 'Resumed',
};

// A run as it happens: the steps already recorded, then the live stream, merged by seq. Where the
// run belongs to something with its own cancel (a task), `cancellable={false}` leaves that to it.
export function RunTimeline({ runId, onFinished, cancellable = true }: { runId: string; onFinished: () => void; cancellable?: boolean }) {
  const { session } = useSession();
  const client = useQueryClient();
  const run = useQuery({ queryKey: ['run', runId], queryFn: () => api<Run>(`/api/runs/${runId}`) });
  const [live, setLive] = useState<RunEvent[]>([]);
  const [state, setState] = useState<StreamState>('connecting');
  const [detail, setDetail] = useState<string | undefined>();
  const loaded = run.data;
  const finishedAtLoad = loaded ? isFinalStatus(loaded.status) : false;

  useEffect(() => {
    if (!loaded || finishedAtLoad) return;
    const afterSeq = loaded.steps.reduce((max, s) => Math.max(max, s.seq), 0);
    return streamRunEvents(runId, {
      afterSeq,
      onEvent: (event) => setLive((prev) => [...prev, event]),
      onState: (s, d) => {
        setState(s);
        setDetail(d);
        if (s === 'ended') {
          void client.invalidateQueries({ queryKey: ['run', runId] });
          onFinished();
        }
      },
    });
    // Once per run, from the steps loaded first (later refetches must not restart the stream).
  }, [runId, loaded !== undefined]);

  const cancel = useMutation({
    mutationFn: () => api<Run>(`/api/runs/${runId}/cancel`, { method: 'POST', body: {} }),
    onSuccess: (r) => client.setQueryData(['run', runId], r),
  });
  if (run.error) return <ErrorNotice error={run.error} />;
  if (!loaded) return null;
  const steps = mergeSteps(loaded.steps, live);
  const status = live.length > 0 && !isFinalStatus(loaded.status) ? (live[live.length - 1] as RunEvent).status : loaded.status;
  const running = !isFinalStatus(status);
  return (
    <section className="run" aria-labelledby={`run-${runId}`}>
      <div className="row between wrap">
        <h3 id={`run-${runId}`}>
          Run <span className={`badge ${status}`}>{status}</span>
        </h3>
        <span className="small muted" aria-live="polite" data-testid="stream-state">
          {running
            ? state === 'reconnecting'
              ? 'Reconnecting…'
              : state === 'live'
                ? 'Live'
                : state === 'failed'
                  ? `Stream stopped: ${detail ?? ''}`
                  : 'Connecting…'
            : ''}
        </span>
        {running && cancellable && can(session, 'cancelRun') ? (
          <button type="button" className="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
            Cancel run
          </button>
        ) : null}
      </div>
      <p className="small muted">
        {loaded.iterations} model turn(s) · {loaded.inputTokens.toLocaleString()} in / {loaded.outputTokens.toLocaleString()} out tokens · $
        {loaded.costUsd.toFixed(4)}
        {loaded.commitSha ? (
          <>
            {' '}
            · commit <code>{loaded.commitSha.slice(0, 12)}</code>
          </>
        ) : null}
      </p>
      {loaded.error ? (
        <p className="error small" role="alert">
          {loaded.error.code}: {loaded.error.message}
        </p>
      ) : null}
      {cancel.error ? <ErrorNotice error={cancel.error} /> : null}
      <ol className="timeline" aria-label="Run steps" data-testid="run-steps">
        {steps.map((s) => (
          <li key={s.seq} className={`step ${s.kind}`} data-seq={s.seq}>
            {s.kind === 'tool_call' ? (
              <details>
                <summary>
                  <span className="step-kind">{KIND_LABELS[s.kind]}</span> {toolName(s.summary)}
                </summary>
                <pre className="step-detail">{s.summary}</pre>
              </details>
            ) : (
              <>
                <span className="step-kind">{KIND_LABELS[s.kind] ?? s.kind}</span> <span className="step-summary">{s.summary}</span>
              </>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

// Each seq once, in order: the stream may deliver what the first load already had.
export function mergeSteps(loaded: RunStep[], live: RunEvent[]): RunStep[] {
  const bySeq = new Map<number, RunStep>();
  for (const s of loaded) bySeq.set(s.seq, s);
  for (const e of live) if (!bySeq.has(e.seq)) bySeq.set(e.seq, { seq: e.seq, kind: e.kind, summary: e.summary, createdAt: e.createdAt });
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function toolName(summary: string): string {
  const colon = summary.indexOf(':');
  return colon > 0 && colon < 60 ? summary.slice(0, colon) : summary.slice(0, 60);
}
