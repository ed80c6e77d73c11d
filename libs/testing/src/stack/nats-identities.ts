import { BUS_ROLES, busRoleUser, renderNatsAuthorization, type BusRole, type NatsAuthUser } from '@overskill/contracts';
import { nkeys } from 'nats';

// Test code that sets up or inspects the bus directly (seeding streams, watching facts) connects
// as this identity; it may publish and subscribe anything. Tests of a role's limits connect as
// that role instead.
export const TEST_HARNESS_IDENTITY = 'test-harness';

export type StackNatsIdentity = BusRole | typeof TEST_HARNESS_IDENTITY;

// NKEY seeds of every bus role and of the test harness, made fresh for each stack.
export type StackNatsSeeds = Record<StackNatsIdentity, string>;

export interface StackNatsAuth {
  seeds: StackNatsSeeds;
  // nats-server's authorization block for exactly these keys.
  config: string;
}

export function createStackNatsAuth(): StackNatsAuth {
  const seeds = {} as StackNatsSeeds;
  const users: NatsAuthUser[] = [];
  for (const role of BUS_ROLES) {
    const pair = nkeys.createUser();
    seeds[role] = new TextDecoder().decode(pair.getSeed());
    users.push(busRoleUser(role, pair.getPublicKey()));
  }
  const harness = nkeys.createUser();
  seeds[TEST_HARNESS_IDENTITY] = new TextDecoder().decode(harness.getSeed());
  users.push({ name: TEST_HARNESS_IDENTITY, nkey: harness.getPublicKey(), permissions: 'everything' });
  return { seeds, config: renderNatsAuthorization(users) };
}

// What connectNats needs to connect as one of the stack's identities.
export function stackNatsCredentials(
  stack: { natsSeeds: StackNatsSeeds },
  identity: StackNatsIdentity = TEST_HARNESS_IDENTITY,
): { role: string; nkeySeed: string } {
  return { role: identity, nkeySeed: stack.natsSeeds[identity] };
}
