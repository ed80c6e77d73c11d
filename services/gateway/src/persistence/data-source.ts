import { createServiceDataSource } from '@overskill/persistence';
import { GATEWAY_ENTITIES } from './entities';
import { InitialSchema1763769600000 } from './migrations/1763769600000-initial-schema';

export function createGatewayDataSource(url: string) {
  return createServiceDataSource({ url, schema: 'gateway', entities: GATEWAY_ENTITIES, migrations: [InitialSchema1763769600000] });
}
