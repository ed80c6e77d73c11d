import { api, ApiError } from '@console/api/client';
import type { Preview } from '@console/api/types';
import { ErrorNotice, Loading } from '@console/ui/states';
import { useQuery } from '@tanstack/react-query';

// The app's live preview, once the gateway serves one; until then (404) a clear placeholder.
export function PreviewPane({ appId }: { appId: string }) {
  const preview = useQuery({
    queryKey: ['preview', appId],
    queryFn: async () => {
      try {
        return await api<Preview>(`/api/apps/${appId}/preview`);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
    retry: false,
  });
  return (
    <aside className="preview card" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview</h2>
      {preview.isPending ? <Loading /> : null}
      {preview.error ? <ErrorNotice error={preview.error} /> : null}
      {preview.data === null ? (
        <p className="empty" data-testid="no-preview">
          No preview yet. The live preview of this app appears here once the platform serves one.
        </p>
      ) : null}
      {preview.data ? (
        <>
          <p className="small">
            State: <strong>{preview.data.state}</strong>
          </p>
          {preview.data.url ? <iframe title="App preview" src={preview.data.url} sandbox="allow-scripts allow-forms" className="preview-frame" /> : null}
        </>
      ) : null}
    </aside>
  );
}
