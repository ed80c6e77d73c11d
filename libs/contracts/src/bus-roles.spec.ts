import { BUS_ROLE_TABLE, BUS_ROLES, busPermissions, type BusRole } from './bus-roles';
import { busRoleUser, renderNatsAuthorization } from './nats-authorization';
import { Events, HealthPing, Rpc, rpcForSubject, SERVICE_NAMES, Streams, SUBJECT_PREFIX, type RpcDefinition } from './subjects';

const allRpcs: RpcDefinition[] = [...Object.values(Rpc), ...Object.values(HealthPing)];
const callersOf = (def: RpcDefinition): BusRole[] => BUS_ROLES.filter((role) => BUS_ROLE_TABLE[role].calls.includes(def));

// Served, but no role asks them yet (tools and routes that will use them come later). Listed
// here so that a new subject is a decision: give it callers in the table, or add it here.
const UNCALLED = [Rpc.gitRepoCompare, Rpc.gitBookmarkCreate, Rpc.gitBookmarkList, Rpc.gitBookmarkDelete, Rpc.analyticsEventCount].map((def) => def.subject);

describe('bus role table', () => {
  it('has a role for every service and the CLI, and each role’s calls are registry subjects', () => {
    expect([...BUS_ROLES].sort()).toEqual([...SERVICE_NAMES, 'cli'].sort());
    for (const role of BUS_ROLES) {
      for (const def of BUS_ROLE_TABLE[role].calls) expect(rpcForSubject(def.subject)).toBe(def);
    }
  });

  it('leaves no subject of the registry unowned: every one is served by its owner and asked by someone, or listed as not asked yet', () => {
    const uncalled = allRpcs.filter((def) => callersOf(def).length === 0).map((def) => def.subject);
    expect(uncalled.sort()).toEqual([...UNCALLED].sort());
    for (const def of allRpcs) {
      const owner = busPermissions(def.owner);
      expect(owner.subscribe).toContain(`${SUBJECT_PREFIX[def.owner]}.>`);
      expect(owner.allowResponses).toBe(true);
    }
  });

  it('gives every durable subject a publisher, and every stream a consumer or a role that manages it', () => {
    for (const def of Object.values(Events)) {
      expect(BUS_ROLES.filter((role) => BUS_ROLE_TABLE[role].publishes.includes(def)).length).toBeGreaterThan(0);
    }
    for (const stream of Object.values(Streams)) {
      expect(BUS_ROLES.some((role) => BUS_ROLE_TABLE[role].consumes.some((grant) => grant.stream === stream.name))).toBe(true);
    }
  });

  it('grants no role a full wildcard, anyone else’s inbox, or the whole JetStream API', () => {
    for (const role of BUS_ROLES) {
      const { publish, subscribe } = busPermissions(role);
      for (const subject of [...publish, ...subscribe]) {
        expect(subject).not.toMatch(/^(>|\*|\*\.>|_INBOX\.>|\$JS\.API\.>|\$JS\.>|\$JS\.ACK\.>|\$JS\.API\.(STREAM|CONSUMER)\.>)$/);
        expect(subject).not.toMatch(/^\$JS\.API\.(STREAM\.DELETE|STREAM\.PURGE|CONSUMER\.DELETE)/);
      }
      expect(subscribe.filter((subject) => subject.startsWith('_INBOX'))).toEqual([`_INBOX.${role}.>`]);
    }
  });

  it('lets only the orchestrator run tools, and only the gateway use the app API', () => {
    expect(callersOf(Rpc.toolCallExecute)).toEqual(['orchestrator']);
    for (const def of [Rpc.appCreate, Rpc.appGet, Rpc.appUpdate, Rpc.appDelete, Rpc.messagePost, Rpc.runCancel]) expect(callersOf(def)).toEqual(['gateway']);
    expect(callersOf(Rpc.apiKeyCreate)).toEqual(['cli']);
    expect(busPermissions('cli').allowResponses).toBe(false);
  });

  it('renders a nats-server authorization block with public keys only', () => {
    const key = 'UAZKDGIDN343OQ73VDGQC5XWEKVXSPNMUXIV442SRJLM5OQMCGYCKHUI';
    const config = renderNatsAuthorization([busRoleUser('gateway', key)]);
    expect(config).toContain('authorization {');
    expect(config).toContain(`"nkey":"${key}"`);
    expect(config).toContain('"allow_responses":true');
    expect(config).not.toMatch(/"S[A-Z]/);
    expect(() => renderNatsAuthorization([busRoleUser('gateway', 'SUAM-not-a-public-key')])).toThrow('is not an NKEY user public key');
  });
});
