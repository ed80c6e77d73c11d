import { api } from '@console/api/client';
import type { Session } from '@console/api/types';
import { ErrorNotice } from '@console/ui/states';
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

// The key goes to the gateway once and is exchanged for an HttpOnly cookie; the page never keeps it.
export function SignIn({ onSignedIn, notice }: { onSignedIn: (s: Session) => void; notice: string | null }) {
  const [key, setKey] = useState('');
  const signIn = useMutation({
    mutationFn: (k: string) => api<Session>('/api/session', { method: 'POST', body: { key: k }, quietUnauthenticated: true }),
    onSuccess: (s) => {
      setKey('');
      onSignedIn(s);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (key.trim()) signIn.mutate(key.trim());
  };
  return (
    <main className="signin">
      <h1>overskill</h1>
      <form onSubmit={submit} className="card">
        <h2>Sign in</h2>
        {notice ? (
          <p className="notice" role="status">
            {notice}
          </p>
        ) : null}
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(e) => setKey(e.target.value)}
          placeholder="osk_…"
          required
        />
        <p className="small muted">
          <code>npm start</code> prints a key; others come from <code>npx overskill keys create</code> or the Keys screen.
        </p>
        <button type="submit" className="primary" disabled={signIn.isPending}>
          {signIn.isPending ? 'Signing in…' : 'Sign in'}
        </button>
        {signIn.error ? <ErrorNotice error={signIn.error} /> : null}
      </form>
    </main>
  );
}
