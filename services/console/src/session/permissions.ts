import type { Role, Session } from '@console/api/types';

const RANK: Record<Role, number> = { viewer: 1, member: 2, admin: 3, owner: 4 };

// The gateway's route table, for what the console shows: an action the key cannot take is not
// offered (the gateway still decides; a refusal shows its message).
export const ACTIONS = {
  createApp: { minRole: 'member', scope: 'apps:write' },
  renameApp: { minRole: 'member', scope: 'apps:write' },
  deleteApp: { minRole: 'admin', scope: 'apps:write' },
  sendMessage: { minRole: 'member', scope: 'runs:write' },
  cancelRun: { minRole: 'member', scope: 'runs:write' },
  readRuns: { minRole: 'viewer', scope: 'runs:read' },
  readFiles: { minRole: 'viewer', scope: 'files:read' },
  readVersions: { minRole: 'viewer', scope: 'versions:read' },
  restoreVersion: { minRole: 'member', scope: 'versions:write' },
  controlPreview: { minRole: 'member', scope: 'apps:write' },
  readApps: { minRole: 'viewer', scope: 'apps:read' },
  readProjects: { minRole: 'viewer', scope: 'projects:read' },
  manageProjects: { minRole: 'admin', scope: 'projects:write' },
  manageTasks: { minRole: 'member', scope: 'projects:write' },
  manageKeys: { minRole: 'admin', scope: 'keys:manage' },
  readAudit: { minRole: 'admin', scope: 'audit:read' },
  readAdmin: { minRole: 'admin', scope: 'admin:read' },
  switchModel: { minRole: 'owner', scope: 'admin:write', operatorOnly: true },
  readBackups: { minRole: 'admin', scope: 'admin:read', operatorOnly: true },
  manageBackups: { minRole: 'admin', scope: 'admin:write', operatorOnly: true },
} as const satisfies Record<string, { minRole: Role; scope: string; operatorOnly?: boolean }>;

export type Action = keyof typeof ACTIONS;

export function can(session: Session | null | undefined, action: Action): boolean {
  if (!session) return false;
  const rule: { minRole: Role; scope: string; operatorOnly?: boolean } = ACTIONS[action];
  if (RANK[session.role] < RANK[rule.minRole]) return false;
  if (session.scopes.length > 0 && !session.scopes.includes(rule.scope)) return false;
  return !rule.operatorOnly || session.operator;
}
