import { AppError, ErrorCode } from '@overskill/contracts';
import type { RoleName } from '../persistence/entities';

// What a key may do: its role sets the ceiling, its scopes (when any) narrow it further.
export const ROLE_RANK: Record<RoleName, number> = { viewer: 1, member: 2, admin: 3, owner: 4 };
export const ROLES: readonly RoleName[] = ['owner', 'admin', 'member', 'viewer'];

export const SCOPES = [
  'apps:read',
  'apps:write',
  'runs:read',
  'runs:write',
  'files:read',
  'versions:read',
  'versions:write',
  'keys:manage',
  'audit:read',
  'admin:read',
  'admin:write',
  'ai:use',
  'projects:read',
  'projects:write',
] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  keyId: string;
  keyPrefix: string;
  teamId: string;
  role: RoleName;
  scopes: readonly string[];
}

export function roleAllows(role: RoleName, minRole: RoleName): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[minRole];
}

// A null scope: any valid key may call the route (the console's own session routes).
export function scopeAllows(scopes: readonly string[], scope: Scope | null): boolean {
  return scope === null || scopes.length === 0 || scopes.includes(scope);
}

// A key presented but refused (a wrong secret, a revoked or expired key), for the audit log.
export interface AuthFailure {
  // The team whose key prefix was presented.
  teamId: string | null;
  keyPrefix: string;
  keyId: string;
}

export type AuthCheck = { principal: Principal } | { failure: AuthFailure };

// One answer for every credential refused, whatever the reason (the audit log keeps the reason).
export class AuthenticationError extends AppError {
  constructor(readonly failure: AuthFailure) {
    super(ErrorCode.UNAUTHENTICATED, 'A valid API key is required (X-API-Key or Authorization: Bearer)');
  }
}
