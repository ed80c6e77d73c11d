import { gatewayV1, Rpc } from '@overskill/contracts';
import type { CliContext } from '../cli-context';
import { CliError } from '../cli-context';

const ROLES: Record<string, gatewayV1.Role> = {
  owner: gatewayV1.Role.OWNER,
  admin: gatewayV1.Role.ADMIN,
  member: gatewayV1.Role.MEMBER,
  viewer: gatewayV1.Role.VIEWER,
};

export async function keysCreate(ctx: CliContext, flags: Record<string, string | true>): Promise<string> {
  const team = flags.team;
  const roleName = flags.role;
  if (typeof team !== 'string') throw new CliError('keys create needs --team <slug>');
  if (typeof roleName !== 'string' || !(roleName in ROLES)) throw new CliError('keys create needs --role owner|admin|member|viewer');
  const created = await ctx.rpc.send(Rpc.apiKeyCreate, {
    teamSlug: team,
    role: ROLES[roleName],
    name: typeof flags.name === 'string' ? flags.name : 'cli',
    expiresAt: typeof flags.expires === 'string' ? flags.expires : '',
  });
  if (flags.json) {
    return JSON.stringify({ key: created.key, keyId: created.keyId, prefix: created.prefix, teamId: created.teamId, team: created.teamSlug, role: roleName });
  }
  return [`API key for team ${created.teamSlug} (${roleName}) — shown once, store it now:`, '', `  ${created.key}`, '', `key id ${created.keyId}, prefix ${created.prefix}`].join('\n');
}
