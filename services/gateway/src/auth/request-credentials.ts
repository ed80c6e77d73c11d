import type { AuthCheck } from '../routing/access';
import type { AuditableRequest } from '../routing/request';

// Who a request is, from what it presents (a key header, or the console's session cookie). The
// guard depends on this alone; the implementation, over keys and sessions, is bound in the module.
export abstract class RequestCredentials {
  abstract authenticate(request: AuditableRequest): Promise<AuthCheck>;
  // The slug of a principal's team, for routes only the operator teams may call.
  abstract teamSlug(teamId: string): Promise<string | null>;
}
