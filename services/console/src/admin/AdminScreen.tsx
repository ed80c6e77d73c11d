import { can, type Action } from '@console/session/permissions';
import { useSession } from '@console/session/session';
import { RouteTabs } from '@console/ui/RouteTabs';
import { AuditLog } from './AuditLog';
import { AiUsagePanel } from './AiUsagePanel';
import { BackupsPanel } from './BackupsPanel';
import { HealthPanel } from './HealthPanel';
import { KeysPanel } from './KeysPanel';

const SECTIONS: Array<{ id: string; label: string; action: Action }> = [
  { id: 'keys', label: 'API keys', action: 'manageKeys' },
  { id: 'audit', label: 'Audit log', action: 'readAudit' },
  { id: 'ai', label: 'AI usage & model', action: 'readAdmin' },
  { id: 'health', label: 'Service health', action: 'readAdmin' },
  { id: 'backups', label: 'Backups', action: 'readBackups' },
];

export function AdminScreen({ section }: { section: string }) {
  const { session } = useSession();
  const allowed = SECTIONS.filter((s) => can(session, s.action));
  const current = allowed.find((s) => s.id === section) ?? allowed[0];
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Admin</h1>
      {!current ? <p className="empty">This key has no administrative rights.</p> : null}
      {current ? (
        <RouteTabs label="Admin" selected={current.id} tabs={allowed.map((s) => ({ id: s.id, label: s.label, href: `/admin/${s.id}` }))}>
          {current.id === 'keys' ? <KeysPanel /> : null}
          {current.id === 'audit' ? <AuditLog /> : null}
          {current.id === 'ai' ? <AiUsagePanel /> : null}
          {current.id === 'health' ? <HealthPanel /> : null}
          {current.id === 'backups' ? <BackupsPanel /> : null}
        </RouteTabs>
      ) : null}
    </section>
  );
}
