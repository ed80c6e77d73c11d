import { api, query } from '@console/api/client';
import type { App, Page } from '@console/api/types';
import { Link, useRouter } from '@console/routing/router';
import { can } from '@console/session/permissions';
import { useSession } from '@console/session/session';
import { ConfirmDialog, Dialog } from '@console/ui/Dialog';
import { Empty, ErrorNotice, Loading } from '@console/ui/states';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

const TEMPLATES = [
  { id: 'static-web', label: 'Static web page' },
  { id: 'vite-react', label: 'Vite + React' },
  { id: 'empty', label: 'Empty' },
];

export function AppsScreen() {
  const { session } = useSession();
  const client = useQueryClient();
  const { navigate } = useRouter();
  const apps = useInfiniteQuery({
    queryKey: ['apps'],
    queryFn: ({ pageParam }) => api<Page<App>>(`/api/apps${query({ limit: 50, cursor: pageParam })}`),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState<App | null>(null);
  const [deleting, setDeleting] = useState<App | null>(null);
  const remove = useMutation({
    mutationFn: (app: App) => api(`/api/apps/${app.id}`, { method: 'DELETE' }),
    onSuccess: () => {
      setDeleting(null);
      void client.invalidateQueries({ queryKey: ['apps'] });
    },
  });
  const rows = apps.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <section aria-labelledby="apps-title">
      <div className="row between">
        <h1 id="apps-title">Apps</h1>
        {can(session, 'createApp') ? (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New app
          </button>
        ) : null}
      </div>
      {apps.isPending ? <Loading /> : null}
      {apps.error ? <ErrorNotice error={apps.error} onRetry={() => void apps.refetch()} /> : null}
      {apps.isSuccess && rows.length === 0 ? (
        <Empty>No apps yet. {can(session, 'createApp') ? 'Create one to start chatting with the agent.' : ''}</Empty>
      ) : null}
      {rows.length > 0 ? (
        <ul className="cards" aria-label="Your apps">
          {rows.map((app) => (
            <li key={app.id} className="card">
              <h2 className="card-title">
                <Link to={`/apps/${app.id}`}>{app.name}</Link>
              </h2>
              <p className="small muted">
                {app.template} · updated {new Date(app.updatedAt).toLocaleString()}
              </p>
              {app.description ? <p>{app.description}</p> : null}
              <div className="row">
                {can(session, 'renameApp') ? (
                  <button type="button" onClick={() => setRenaming(app)} aria-label={`Rename ${app.name}`}>
                    Rename
                  </button>
                ) : null}
                {can(session, 'deleteApp') ? (
                  <button type="button" className="danger" onClick={() => setDeleting(app)} aria-label={`Delete ${app.name}`}>
                    Delete
                  </button>
                ) : null}
              </div>
            </li>
          ))}
        </ul>
      ) : null}
      {apps.hasNextPage ? (
        <button type="button" onClick={() => void apps.fetchNextPage()} disabled={apps.isFetchingNextPage}>
          {apps.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      ) : null}
      {creating ? (
        <AppForm
          title="New app"
          submitLabel="Create"
          onClose={() => setCreating(false)}
          submit={(v) => api<App>('/api/apps', { method: 'POST', body: v })}
          onDone={(app) => {
            void client.invalidateQueries({ queryKey: ['apps'] });
            navigate(`/apps/${app.id}`);
          }}
          withTemplate
        />
      ) : null}
      {renaming ? (
        <AppForm
          title={`Rename ${renaming.name}`}
          submitLabel="Save"
          initial={renaming}
          onClose={() => setRenaming(null)}
          submit={(v) => api<App>(`/api/apps/${renaming.id}`, { method: 'PATCH', body: { name: v.name, description: v.description } })}
          onDone={() => {
            setRenaming(null);
            void client.invalidateQueries({ queryKey: ['apps'] });
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          message={
            <>
              <p>The app, its conversation and its repository are deleted. This cannot be undone.</p>
              {remove.error ? <ErrorNotice error={remove.error} /> : null}
            </>
          }
          confirmLabel="Delete app"
          danger
          busy={remove.isPending}
          onConfirm={() => remove.mutate(deleting)}
          onCancel={() => {
            remove.reset();
            setDeleting(null);
          }}
        />
      ) : null}
    </section>
  );
}

interface AppValues {
  name: string;
  description: string;
  template?: string;
}

function AppForm(props: {
  title: string;
  submitLabel: string;
  initial?: App;
  withTemplate?: boolean;
  onClose: () => void;
  submit: (v: AppValues) => Promise<App>;
  onDone: (app: App) => void;
}) {
  const [name, setName] = useState(props.initial?.name ?? '');
  const [description, setDescription] = useState(props.initial?.description ?? '');
  const [template, setTemplate] = useState('static-web');
  const save = useMutation({ mutationFn: props.submit, onSuccess: props.onDone });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({ name, description, ...(props.withTemplate ? { template } : {}) });
  };
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <form onSubmit={onSubmit} className="stack">
        <label htmlFor="app-name">Name</label>
        <input id="app-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} data-autofocus />
        <label htmlFor="app-description">Description</label>
        <textarea id="app-description" value={description} onChange={(e) => setDescription(e.target.value)} maxLength={2000} rows={3} />
        {props.withTemplate ? (
          <fieldset>
            <legend>Template</legend>
            {TEMPLATES.map((t) => (
              <label key={t.id} className="radio">
                <input type="radio" name="template" value={t.id} checked={template === t.id} onChange={() => setTemplate(t.id)} /> {t.label}
              </label>
            ))}
          </fieldset>
        ) : null}
        {save.error ? <ErrorNotice error={save.error} /> : null}
        <div className="row end">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={save.isPending}>
            {save.isPending ? 'Saving…' : props.submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
