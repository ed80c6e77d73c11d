import type { FastifyRequest } from 'fastify';
import type { AuthFailure, Principal } from './access';

// Set when the caller came with the console's session cookie instead of a key header.
export interface RequestSession {
  id: string;
  csrfToken?: string;
  expiresAt?: string;
}
export type AuthenticatedRequest = FastifyRequest & { principal: Principal; session?: RequestSession };
// keyRate: the key the edge verified from this replica's cache, and its rate decision, when the
// edge counted it already (see registerEdge).
export type AuditableRequest = FastifyRequest & {
  principal?: Principal;
  authFailure?: AuthFailure;
  errorCode?: string;
  session?: RequestSession;
  keyRate?: { principal: Principal; decision: RateDecision };
};

// The rate limiter's answer for one bucket.
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  // Seconds until the window resets.
  resetSeconds: number;
  windowSeconds: number;
}

// The key a caller presented: X-API-Key, or Authorization: Bearer.
export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header) return header.trim();
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && auth.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  return undefined;
}
