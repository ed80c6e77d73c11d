import { api } from '@console/api/client';
import type { ApiKey, CreatedKey, Role } from '@console/api/types';
import { ConfirmDialog, Dialog } from '@console/ui/Dialog';
import { DataTable } from '@console/ui/DataTable';
import { Empty, ErrorNotice, Loading } from '@console/ui/states';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Button, Menu, MenuItem, MenuTrigger, Popover } from 'react-aria-components';

const ROLES: Role[] = ['viewer', 'member', 'admin', 'owner'];

export function KeysPanel() {
  const client = useQueryClient();
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const keys = useQuery({ queryKey: ['keys', includeRevoked], queryFn: () => api<{ data: ApiKey[] }>(`/api/keys?includeRevoked=${includeRevoked}`) });
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<CreatedKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [rotating, setRotating] = useState<ApiKey | null>(null);
  const refresh = () => void client.invalidateQueries({ queryKey: ['keys'] });
  const revoke = useMutation({
    mutationFn: (k: ApiKey) => api<ApiKey>(`/api/keys/${k.id}`, { method: 'DELETE' }),
    onSuccess: () => (setRevoking(null), refresh()),
  });
  const rotate = useMutation({
    mutationFn: (k: ApiKey) => api<{ created: CreatedKey }>(`/api/keys/${k.id}/rotate`, { method: 'POST', body: {} }),
    onSuccess: (r) => {
      setRotating(null);
      setSecret(r.created);
      refresh();
    },
  });
  return (
    <div>
      <div className="row between wrap">
        <label className="radio">
          <input type="checkbox" checked={includeRevoked} onChange={(e) => setIncludeRevoked(e.target.checked)} /> Show revoked keys
        </label>
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          New key
        </button>
      </div>
      {keys.isPending ? <Loading /> : null}
      {keys.error ? <ErrorNotice error={keys.error} onRetry={() => void keys.refetch()} /> : null}
      {keys.data && keys.data.data.length === 0 ? <Empty>No keys.</Empty> : null}
      {keys.data && keys.data.data.length > 0 ? (
        <DataTable
          caption="API keys"
          rows={keys.data.data}
          rowKey={(k) => k.id}
          columns={[
            { id: 'name', header: 'Name', rowHeader: true, cell: (k) => k.name },
            { id: 'prefix', header: 'Prefix', cell: (k) => <code>{k.prefix}</code> },
            { id: 'role', header: 'Role', cell: (k) => k.role },
            { id: 'scopes', header: 'Scopes', className: 'small', cell: (k) => (k.scopes.length ? k.scopes.join(', ') : 'all of the role') },
            { id: 'status', header: 'Status', cell: (k) => k.status },
            { id: 'created', header: 'Created', className: 'small', cell: (k) => new Date(k.createdAt).toLocaleDateString() },
            {
              id: 'actions',
              header: 'Actions',
              cell: (k) => (k.status === 'active' ? <KeyActions apiKey={k} onRotate={setRotating} onRevoke={setRevoking} /> : null),
            },
          ]}
        />
      ) : null}
      {creating ? (
        <CreateKeyDialog
          onClose={() => setCreating(false)}
          onCreated={(k) => {
            setCreating(false);
            setSecret(k);
            refresh();
          }}
        />
      ) : null}
      {secret ? (
        <Dialog title="Copy the new key now" onClose={() => setSecret(null)}>
          <p>This is the only time the key is shown; only its hash is stored.</p>
          <label htmlFor="new-key">Key {secret.name}</label>
          <input id="new-key" readOnly value={secret.key} onFocus={(e) => e.target.select()} data-testid="new-key" />
          <div className="row end">
            <button type="button" className="primary" onClick={() => setSecret(null)}>
              Done
            </button>
          </div>
        </Dialog>
      ) : null}
      {revoking ? (
        <ConfirmDialog
          title={`Revoke ${revoking.name}?`}
          message={
            <>
              <p>Every request with this key is refused at once, and consoles signed in with it are signed out.</p>
              {revoke.error ? <ErrorNotice error={revoke.error} /> : null}
            </>
          }
          confirmLabel="Revoke key"
          danger
          busy={revoke.isPending}
          onConfirm={() => revoke.mutate(revoking)}
          onCancel={() => (revoke.reset(), setRevoking(null))}
        />
      ) : null}
      {rotating ? (
        <ConfirmDialog
          title={`Rotate ${rotating.name}?`}
          message={
            <>
              <p>A new key is issued now; the old one keeps working for the grace period (one day by default).</p>
              {rotate.error ? <ErrorNotice error={rotate.error} /> : null}
            </>
          }
          confirmLabel="Rotate key"
          busy={rotate.isPending}
          onConfirm={() => rotate.mutate(rotating)}
          onCancel={() => (rotate.reset(), setRotating(null))}
        />
      ) : null}
    </div>
  );
}

// Rotate and revoke in a menu (react-aria-components: arrow keys, Enter, Escape, focus back on the button).
function KeyActions({ apiKey, onRotate, onRevoke }: { apiKey: ApiKey; onRotate: (k: ApiKey) => void; onRevoke: (k: ApiKey) => void }) {
  return (
    <MenuTrigger>
      <Button aria-label={`Actions for ${apiKey.name}`}>Actions ▾</Button>
      <Popover className="popover" placement="bottom end">
        <Menu className="menu" aria-label={`Actions for ${apiKey.name}`} onAction={(id) => (id === 'rotate' ? onRotate(apiKey) : onRevoke(apiKey))}>
          <MenuItem id="rotate" className="menu-item">
            Rotate
          </MenuItem>
          <MenuItem id="revoke" className="menu-item danger">
            Revoke
          </MenuItem>
        </Menu>
      </Popover>
    </MenuTrigger>
  );
}

function CreateKeyDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (k: CreatedKey) => void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('member');
  const create = useMutation({ mutationFn: () => api<CreatedKey>('/api/keys', { method: 'POST', body: { name, role } }), onSuccess: onCreated });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <Dialog title="New API key" onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <label htmlFor="key-name">Name</label>
        <input id="key-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} data-autofocus />
        <label htmlFor="key-role">Role</label>
        <select id="key-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
        {create.error ? <ErrorNotice error={create.error} /> : null}
        <div className="row end">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={create.isPending}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}
