import { ApiError } from '@console/api/client';
import type { ReactNode } from 'react';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

// The API's own message and correlation id, so a refusal can be acted on and reported.
export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const api = error instanceof ApiError ? error : null;
  return (
    <div className="error" role="alert">
      <p>
        <strong>{api ? api.code : 'Error'}</strong>: {api ? api.message : String((error as Error)?.message ?? error)}
      </p>
      {api?.correlationId ? (
        <p className="small">
          Correlation id: <code>{api.correlationId}</code>
        </p>
      ) : null}
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}
