import { gatewayV1, Rpc } from '@overskill/contracts';
import { CliError } from '../cli-context';
import { defineCommand } from '../command';

const ROLES: Record<string, gatewayV1.Role> = {
  owner: gatewayV1.Role.OWNER,
  admin: gatewayV1.Role.ADMIN,
  member: gatewayV1.Role.MEMBER,
  viewer: gatewayV1.Role.VIEWER,
};
const ROLE_LABELS: Record<number, string> = Object.fromEntries(Object.entries(ROLES).map(([name, value]) => [value, name]));

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

export const keysCreate = defineCommand({
  words: ['keys', 'create'],
  help: `  keys create --team <slug> --role <role> Create an API key (owner|admin|member|viewer); shown once
              [--name <text>] [--scopes a,b] [--expires <ISO-8601|30d>] [--user <email>] [--json]`,
  options: {
    team: { type: 'string', required: true },
    role: { type: 'string', required: true },
    name: { type: 'string' },
    scopes: { type: 'string' },
    expires: { type: 'string' },
    user: { type: 'string' },
  },
  async run(ctx, flags) {
    const roleName = flags.role;
    if (!(roleName in ROLES)) throw new CliError('keys create: --role takes owner, admin, member or viewer');
    const scopes = (flags.scopes ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const created = await ctx.rpc.send(Rpc.apiKeyCreate, {
      teamSlug: flags.team,
      role: ROLES[roleName],
      name: flags.name ?? 'cli',
      expiresAt: parseExpiry(flags.expires),
      scopes,
      userEmail: flags.user ?? '',
    });
    if (flags.json) {
      return JSON.stringify({
        key: created.key,
        keyId: created.keyId,
        prefix: created.prefix,
        teamId: created.teamId,
        team: created.teamSlug,
        role: roleName,
        scopes: created.scopes,
        expiresAt: created.expiresAt || null,
      });
    }
    return [
      `API key for team ${created.teamSlug} (${roleName}${created.scopes.length ? `; scopes ${created.scopes.join(', ')}` : ''}) — shown once, store it now:`,
      '',
      `  ${created.key}`,
      '',
      `key id ${created.keyId}, prefix ${created.prefix}${created.expiresAt ? `, expires ${created.expiresAt}` : ''}`,
    ].join('\n');
  },
});

export const keysList = defineCommand({
  words: ['keys', 'list'],
  help: `  keys list --team <slug> [--all] [--json] The team's keys (never their secrets); --all includes revoked`,
  options: { team: { type: 'string', required: true }, all: { type: 'boolean' } },
  async run(ctx, flags) {
    const team = flags.team;
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
    const state = (r: (typeof rows)[number]) =>
      r.revokedAt ? 'revoked' : r.replacedBy ? `rotating until ${r.expiresAt}` : r.expiresAt ? `expires ${r.expiresAt}` : 'active';
    return rows
      .map((r) => `${r.keyId}  ${r.prefix}  ${r.role.padEnd(6)}  ${r.name}  ${state(r)}${r.scopes.length ? `  [${r.scopes.join(',')}]` : ''}`)
      .join('\n');
  },
});

export const keysRotate = defineCommand({
  words: ['keys', 'rotate'],
  help: `  keys rotate <keyId> [--grace <seconds>] New secret now; the old key works for the grace period
              [--json]                    (default GATEWAY_KEY_ROTATION_GRACE_SECONDS)`,
  options: { grace: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(ctx, flags, [keyId = '']) {
    const grace = flags.grace;
    if (grace !== undefined && !/^\d{1,7}$/.test(grace)) throw new CliError('--grace takes whole seconds');
    const rotated = await ctx.rpc.send(Rpc.apiKeyRotate, { keyId, graceSeconds: grace === undefined ? undefined : Number(grace) });
    const created = rotated.created;
    if (!created) throw new CliError('the gateway answered without the new key; see its logs');
    if (flags.json)
      return JSON.stringify({
        key: created.key,
        keyId: created.keyId,
        prefix: created.prefix,
        oldKeyId: rotated.oldKeyId,
        oldKeyExpiresAt: rotated.oldKeyExpiresAt,
      });
    return [
      `New key (shown once, store it now):`,
      '',
      `  ${created.key}`,
      '',
      `key id ${created.keyId}; the old key ${rotated.oldKeyId} works until ${rotated.oldKeyExpiresAt}`,
    ].join('\n');
  },
});

export const keysRevoke = defineCommand({
  words: ['keys', 'revoke'],
  help: `  keys revoke <keyId> [--json]            Revoke at once on every gateway replica`,
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx, flags, [keyId = '']) {
    const revoked = await ctx.rpc.send(Rpc.apiKeyRevoke, { keyId });
    if (flags.json) return JSON.stringify(revoked);
    return `revoked ${revoked.keyId} at ${revoked.revokedAt} (every gateway replica refuses it now)`;
  },
});
