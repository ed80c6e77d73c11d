import { api } from '@console/api/client';
import type { AnswerMode, Project } from '@console/api/types';
import { Dialog } from '@console/ui/Dialog';
import { ErrorNotice } from '@console/ui/states';
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { createBody, formValues, updateBody, type ProjectFormValues } from './project-model';

// Create a project, or edit one's settings and credentials. Secrets are write-only: the fields
// start empty and are sent only when something is typed. GitHub's verdict on the credentials
// (a missing permission, a bad token, an unknown repository) is shown as the API words it.
export function ProjectForm({ project, onClose, onSaved }: { project?: Project; onClose: () => void; onSaved: (p: Project) => void }) {
  const [v, setV] = useState<ProjectFormValues>(() => formValues(project));
  const set = (patch: Partial<ProjectFormValues>) => setV((old) => ({ ...old, ...patch }));
  const [nothing, setNothing] = useState(false);
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      project ? api<Project>(`/api/projects/${project.id}`, { method: 'PATCH', body }) : api<Project>('/api/projects', { method: 'POST', body }),
    onSuccess: onSaved,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body = project ? updateBody(project, v) : createBody(v);
    setNothing(Object.keys(body).length === 0);
    if (Object.keys(body).length > 0) save.mutate(body);
  };
  const authKind = project?.auth.kind ?? v.authKind;
  return (
    <Dialog title={project ? `Edit ${project.repository}` : 'New project'} onClose={onClose}>
      <form onSubmit={submit} className="stack" autoComplete="off">
        {project ? null : (
          <>
            <label htmlFor="project-repo">Repository (owner/name)</label>
            <input
              id="project-repo"
              value={v.repository}
              onChange={(e) => set({ repository: e.target.value })}
              required
              pattern="[A-Za-z0-9][A-Za-z0-9\-]*/[A-Za-z0-9._\-]+"
              data-autofocus
            />
            <fieldset className="segmented">
              <legend>Credentials</legend>
              <label className="radio">
                <input type="radio" name="auth-kind" checked={v.authKind === 'token'} onChange={() => set({ authKind: 'token' })} /> An access token
              </label>
              <label className="radio">
                <input type="radio" name="auth-kind" checked={v.authKind === 'app'} onChange={() => set({ authKind: 'app' })} /> A GitHub App installation
              </label>
            </fieldset>
          </>
        )}
        {authKind === 'token' ? (
          <>
            <label htmlFor="project-token">{project ? 'New token (leave empty to keep the current one)' : 'Token'}</label>
            <input
              id="project-token"
              type="password"
              value={v.token}
              onChange={(e) => set({ token: e.target.value })}
              required={!project}
              autoComplete="new-password"
            />
          </>
        ) : (
          <>
            {project ? null : (
              <div className="row wrap">
                <div className="field">
                  <label htmlFor="project-app-id">App id</label>
                  <input id="project-app-id" inputMode="numeric" pattern="[0-9]+" value={v.appId} onChange={(e) => set({ appId: e.target.value })} required />
                </div>
                <div className="field">
                  <label htmlFor="project-installation">Installation id</label>
                  <input
                    id="project-installation"
                    inputMode="numeric"
                    pattern="[0-9]+"
                    value={v.installationId}
                    onChange={(e) => set({ installationId: e.target.value })}
                    required
                  />
                </div>
              </div>
            )}
            <label htmlFor="project-key">{project ? 'New private key (leave empty to keep the current one)' : 'Private key (PEM)'}</label>
            <textarea
              id="project-key"
              rows={4}
              value={v.privateKey}
              onChange={(e) => set({ privateKey: e.target.value })}
              required={!project}
              spellCheck={false}
            />
          </>
        )}
        <div className="row wrap">
          <div className="field">
            <label htmlFor="project-branch">Base branch</label>
            <input id="project-branch" value={v.baseBranch} onChange={(e) => set({ baseBranch: e.target.value })} required maxLength={255} />
          </div>
          <div className="field">
            <label htmlFor="project-trigger">Trigger label</label>
            <input id="project-trigger" value={v.triggerLabel} onChange={(e) => set({ triggerLabel: e.target.value })} required maxLength={50} />
          </div>
          <div className="field">
            <label htmlFor="project-mode">Answer with</label>
            <select id="project-mode" value={v.answerMode} onChange={(e) => set({ answerMode: e.target.value as AnswerMode })}>
              <option value="auto">the agent decides</option>
              <option value="pull_request">a pull request</option>
              <option value="comment">a comment</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="project-concurrency">Tasks at once</label>
            <input
              id="project-concurrency"
              type="number"
              min={1}
              max={64}
              value={v.concurrency}
              onChange={(e) => set({ concurrency: e.target.value })}
              required
            />
          </div>
        </div>
        {nothing ? <p className="notice">Nothing changed.</p> : null}
        {save.error ? <ErrorNotice error={save.error} /> : null}
        <div className="row end">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={save.isPending}>
            {save.isPending ? 'Checking on GitHub…' : project ? 'Save' : 'Add project'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
