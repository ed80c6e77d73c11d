import { gatewayV1, Rpc } from '@overskill/contracts';
import type { CliContext } from '../cli-context';
import { CliError } from '../cli-context';

const ROLES: Record<string, gatewayV1.Role> = {
  owner: gatewayV1.Role.OWNER,
  admin: gatewayV1.Role.ADMIN,
  member: gatewayV1.Role.MEMBER,
  viewer: gatewayV1.Role.VIEWER,
};
const ROLE_LABELS: Record<number, string> = Object.fromEntries(Object.entries(ROLES).map(([name, value]) => [value, name]));

type Flags = Record<string, string | true>;

function text(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  if (value === true) throw new CliError(`--${name} needs a value`);
  return value;
}

// `--expires 30d` or an ISO-8601 time.
export function parseExpiry(value: string | undefined, now = Date.now()): string {
  if (!value) return '';
  const relative = /^(\d{1,5})([dhm])$/.exec(value);
  if (relative) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2] as 'd' | 'h' | 'm'];
    return new Date(now + Number(relative[1]) * unit).toISOString();
  }
  if (Number.isNaN(new Date(value).getTime())) throw new CliError('--expires takes an ISO-8601 time or a duration like 30d, 12h, 45m');
  return value;
}

export async function keysCreate(ctx: CliContext, flags: Flags): Promise<string> {
  const team = text(flags, 'team');
  const roleName = text(flags, 'role');
  if (!team) throw new CliError('keys create needs --team <slug>');
  if (!roleName || !(roleName in ROLES)) throw new CliError('keys create needs --role owner|admin|member|viewer');
  const scopes = (text(flags, 'scopes') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const created = await ctx.rpc.send(Rpc.apiKeyCreate, {
    teamSlug: team,
    role: ROLES[roleName],
    name: text(flags, 'name') ?? 'cli',
    expiresAt: parseExpiry(text(flags, 'expires')),
    scopes,
    userEmail: text(flags, 'user') ?? '',
  });
  if (flags.json) {
    return JSON.stringify({ key: created.key, keyId: created.keyId, prefix: created.prefix, teamId: created.teamId, team: created.teamSlug, role: roleName, scopes: created.scopes, expiresAt: created.expiresAt || null });
  }
  return [
    `API key for team ${created.teamSlug} (${roleName}${created.scopes.length ? `; scopes ${created.scopes.join(', ')}` : ''}) — shown once, store it now:`,
    '',
    `  ${created.key}`,
    '',
    `key id ${created.keyId}, prefix ${created.prefix}${created.expiresAt ? `, expires ${created.expiresAt}` : ''}`,
  ].join('\n');
}

export async function keysList(ctx: CliContext, flags: Flags): Promise<string> {
  const team = text(flags, 'team');
  if (!team) throw new CliError('keys list needs --team <slug>');
  const { keys } = await ctx.rpc.send(Rpc.apiKeyList, { teamSlug: team, includeRevoked: flags.all === true });
  const rows = keys.map((k) => ({
    keyId: k.keyId,
    prefix: k.prefix,
    role: ROLE_LABELS[k.role] ?? 'unknown',
    name: k.name,
    scopes: k.scopes,
    createdAt: k.createdAt,
    expiresAt: k.expiresAt || null,
    revokedAt: k.revokedAt || null,
    replacedBy: k.replacedBy || null,
  }));
  if (flags.json) return JSON.stringify({ team, keys: rows });
  if (rows.length === 0) return `team ${team} has no ${flags.all ? '' : 'live '}keys`;
  const state = (r: (typeof rows)[number]) => (r.revokedAt ? 'revoked' : r.replacedBy ? `rotating until ${r.expiresAt}` : r.expiresAt ? `expires ${r.expiresAt}` : 'active');
  return rows.map((r) => `${r.keyId}  ${r.prefix}  ${r.role.padEnd(6)}  ${r.name}  ${state(r)}${r.scopes.length ? `  [${r.scopes.join(',')}]` : ''}`).join('\n');
}

export async function keysRotate(ctx: CliContext, keyId: string | undefined, flags: Flags): Promise<string> {
  if (!keyId) throw new CliError('keys rotate needs a key id (see keys list)');
  const grace = text(flags, 'grace');
  if (grace !== undefined && !/^\d{1,7}$/.test(grace)) throw new CliError('--grace takes whole seconds');
  const rotated = await ctx.rpc.send(Rpc.apiKeyRotate, { keyId, graceSeconds: grace === undefined ? undefined : Number(grace) });
  const created = rotated.created;
  if (!created) throw new CliError('the gateway answered without the new key; see its logs');
  if (flags.json) return JSON.stringify({ key: created.key, keyId: created.keyId, prefix: created.prefix, oldKeyId: rotated.oldKeyId, oldKeyExpiresAt: rotated.oldKeyExpiresAt });
  return [`New key (shown once, store it now):`, '', `  ${created.key}`, '', `key id ${created.keyId}; the old key ${rotated.oldKeyId} works until ${rotated.oldKeyExpiresAt}`].join('\n');
}

export async function keysRevoke(ctx: CliContext, keyId: string | undefined, flags: Flags): Promise<string> {
  if (!keyId) throw new CliError('keys revoke needs a key id (see keys list)');
  const revoked = await ctx.rpc.send(Rpc.apiKeyRevoke, { keyId });
  if (flags.json) return JSON.stringify(revoked);
  return `revoked ${revoked.keyId} at ${revoked.revokedAt} (every gateway replica refuses it now)`;
}
