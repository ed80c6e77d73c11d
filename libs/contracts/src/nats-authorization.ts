import { busPermissions, type BusPermissions, type BusRole } from './bus-roles';

// One user of nats-server's authorization block: an NKEY public key and what it may do.
export interface NatsAuthUser {
  // Only for the comment above the entry: nats-server knows the user by its key.
  name: string;
  nkey: string;
  // 'everything' is for test harnesses only; deployments list bus roles.
  permissions: BusPermissions | 'everything';
}

export function busRoleUser(role: BusRole, nkey: string): NatsAuthUser {
  return { name: role, nkey, permissions: busPermissions(role) };
}

// The `authorization { users = [...] }` block, for an include in nats-server.conf. The server
// holds public keys only; a client proves its identity by signing the server's nonce with its seed.
export function renderNatsAuthorization(users: readonly NatsAuthUser[]): string {
  for (const user of users) {
    if (!/^U[A-Z2-7]{55}$/.test(user.nkey)) throw new Error(`${user.name}: "${user.nkey}" is not an NKEY user public key (U…, 56 characters)`);
  }
  const entries = users.map((user) => `    # ${user.name}\n    ${JSON.stringify({ nkey: user.nkey, permissions: natsPermissions(user.permissions) })}`);
  return `# Generated from the bus role table (libs/contracts/src/bus-roles.ts); do not edit by hand.\nauthorization {\n  users = [\n${entries.join(',\n')}\n  ]\n}\n`;
}

function natsPermissions(permissions: BusPermissions | 'everything') {
  if (permissions === 'everything') return { publish: { allow: ['>'] }, subscribe: { allow: ['>'] } };
  return {
    publish: { allow: permissions.publish },
    subscribe: { allow: permissions.subscribe },
    ...(permissions.allowResponses ? { allow_responses: true } : {}),
  };
}
