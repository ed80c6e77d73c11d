import { api } from '@console/api/client';
import type { ApiKey, CreatedKey, Role } from '@console/api/types';
import { ConfirmDialog, Dialog } from '@console/ui/Dialog';
import { Empty, ErrorNotice, Loading } from '@console/ui/states';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

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
  const revoke = useMutation({ mutationFn: (k: ApiKey) => api<ApiKey>(`/api/keys/${k.id}`, { method: 'DELETE' }), onSuccess: () => (setRevoking(null), refresh()) });
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
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Role</th>
                <th scope="col">Scopes</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.data.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.prefix}</code>
                  </td>
                  <td>{k.role}</td>
                  <td className="small">{k.scopes.length ? k.scopes.join(', ') : 'all of the role'}</td>
                  <td>{k.status}</td>
                  <td className="small">{new Date(k.createdAt).toLocaleDateString()}</td>
                  <td>
                    {k.status === 'active' ? (
                      <div className="row">
                        <button type="button" onClick={() => setRotating(k)} aria-label={`Rotate ${k.name}`}>
                          Rotate
                        </button>
                        <button type="button" className="danger" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`}>
                          Revoke
                        </button>
                      </div>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
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
