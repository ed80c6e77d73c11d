import { createServiceDataSource } from '@overskill/persistence';
import { GATEWAY_ENTITIES } from './entities';
import { InitialSchema1763769600000 } from './migrations/1763769600000-initial-schema';
import { IdentityAndAudit1763856000000 } from './migrations/1763856000000-identity-and-audit';

export function createGatewayDataSource(url: string) {
  return createServiceDataSource({
    url,
    schema: 'gateway',
    entities: GATEWAY_ENTITIES,
    migrations: [InitialSchema1763769600000, IdentityAndAudit1763856000000],
  });
}
