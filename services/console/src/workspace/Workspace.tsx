import { api } from '@console/api/client';
import type { App } from '@console/api/types';
import { useRouter } from '@console/routing/router';
import { RouteTabs } from '@console/ui/RouteTabs';
import { ErrorNotice } from '@console/ui/states';
import { useQuery } from '@tanstack/react-query';
import { ChatPanel } from './ChatPanel';
import { FilesPanel } from './FilesPanel';
import { PreviewPane } from './PreviewPane';
import { VersionsPanel } from './VersionsPanel';

const TABS = [
  { id: 'chat', label: 'Chat' },
  { id: 'files', label: 'Files' },
  { id: 'versions', label: 'Versions' },
] as const;

// One app: chat and the run beside the live preview, its files, its versions.
export default function Workspace({ appId, tab }: { appId: string; tab: string }) {
  const { search } = useRouter();
  const app = useQuery({ queryKey: ['app', appId], queryFn: () => api<App>(`/api/apps/${appId}`) });
  // ?ref=<sha> on the files tab: the tree of that version instead of the latest.
  const ref = search.get('ref');
  const refSha = ref && /^[0-9a-f]{7,40}$/.test(ref) ? ref : undefined;
  // The panels load their own data in parallel with the app's name; only a missing app stops them.
  if (app.error) return <ErrorNotice error={app.error} onRetry={() => void app.refetch()} />;
  const current = TABS.some((t) => t.id === tab) ? tab : 'chat';
  return (
    <section className="workspace" aria-labelledby="app-title">
      <RouteTabs
        label="Workspace"
        selected={current}
        tabs={TABS.map((t) => ({ id: t.id, label: t.label, href: `/apps/${appId}/${t.id}` }))}
        header={<h1 id="app-title">{app.data?.name ?? 'Loading…'}</h1>}
      >
        {current === 'chat' ? (
          <div className="split">
            <ChatPanel appId={appId} />
            <PreviewPane appId={appId} />
          </div>
        ) : current === 'files' ? (
          <FilesPanel appId={appId} refSha={refSha} />
        ) : (
          <VersionsPanel appId={appId} />
        )}
      </RouteTabs>
    </section>
  );
}
