import { Catch } from '@nestjs/common';
import { RpcErrorFilter } from '@overskill/messaging';
import { asDatastoreError } from '@overskill/persistence';
import type { Observable } from 'rxjs';

// Every service's RPC error mapper: a datastore that is down (a refused or dropped connection,
// a paused Redis) answers DEPENDENCY_UNAVAILABLE, which the gateway turns into 503 with
// Retry-After, instead of INTERNAL; text the database cannot store (a NUL byte) is the caller's
// VALIDATION_FAILED; everything else as the transport's own filter maps it.
@Catch()
export class DependencyAwareRpcErrorFilter extends RpcErrorFilter {
  override catch(exception: unknown): Observable<never> {
    return super.catch(asDatastoreError(exception) ?? exception);
  }
}
