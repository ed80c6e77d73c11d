import type { FastifyRequest } from 'fastify';
import type { AuthFailure, Principal } from './access';

// Set when the caller came with the console's session cookie instead of a key header.
export interface RequestSession {
  id: string;
  csrfToken?: string;
  expiresAt?: string;
}
export type AuthenticatedRequest = FastifyRequest & { principal: Principal; session?: RequestSession };
export type AuditableRequest = FastifyRequest & { principal?: Principal; authFailure?: AuthFailure; errorCode?: string; session?: RequestSession };
