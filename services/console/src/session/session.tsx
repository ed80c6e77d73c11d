import { api, ApiError, onSignedOut, setCsrfToken } from '@console/api/client';
import type { Session } from '@console/api/types';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';

interface SessionValue {
  session: Session;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside <SessionGate>');
  return value;
}

// Shows the sign-in form until the gateway confirms a session; any 401 later signs out.
export function SessionGate({
  children,
  signIn,
}: {
  children: ReactNode;
  signIn: (props: { onSignedIn: (s: Session) => void; notice: string | null }) => ReactNode;
}) {
  const client = useQueryClient();
  const [notice, setNotice] = useState<string | null>(null);
  const current = useQuery({
    queryKey: ['session'],
    queryFn: () => api<Session>('/api/session', { quietUnauthenticated: true }),
    retry: (count, error) => !(error instanceof ApiError && error.status === 401) && count < 2,
    staleTime: 60_000,
  });
  useEffect(
    () =>
      onSignedOut(() => {
        setCsrfToken(null);
        setNotice('Your session ended (it expired or its key was revoked). Sign in again.');
        client.clear();
        client.setQueryData(['session'], null);
      }),
    [client],
  );
  const session = current.data ?? null;
  useEffect(() => setCsrfToken(session?.csrfToken ?? null), [session]);

  const onSignedIn = useCallback(
    (s: Session) => {
      setCsrfToken(s.csrfToken);
      setNotice(null);
      client.setQueryData(['session'], s);
    },
    [client],
  );
  const signOut = useCallback(async () => {
    try {
      await api('/api/session', { method: 'DELETE', quietUnauthenticated: true });
    } finally {
      setCsrfToken(null);
      client.clear();
      client.setQueryData(['session'], null);
    }
  }, [client]);

  if (current.isPending)
    return (
      <p className="muted center" role="status">
        Loading…
      </p>
    );
  if (!session) return <>{signIn({ onSignedIn, notice })}</>;
  return <SessionContext.Provider value={{ session, signOut }}>{children}</SessionContext.Provider>;
}
